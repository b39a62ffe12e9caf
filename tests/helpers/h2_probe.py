"""Probes oxmon's gRPC listener with Python's hyper-h2 (a strict, independent HTTP/2 stack)
and with hand-made frames for what h2 will not send. Prints one line per case:
"<name> ok" or "<name> FAIL <why>". Usage: h2_probe.py PORT TOKEN [CASE...]
"""
import socket
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack

PORT, TOKEN = int(sys.argv[1]), sys.argv[2]
ONLY = set(sys.argv[3:])
PATH = "/oxmon.MetricService/ReportMetrics"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    0, 1, 2, 3, 4, 6, 7, 8, 9)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
PROTOCOL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, COMPRESSION_ERROR = 1, 3, 5, 9
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def ld(number, data):
    return bytes([number << 3 | 2]) + varint(len(data)) + data


def batch(agent=b"h2-probe", points=1):
    now = int(time.time() * 1000)
    out = ld(1, agent) + bytes([2 << 3]) + varint(now)
    for i in range(points):
        point = (bytes([1 << 3]) + varint(now) + ld(2, agent) + ld(3, b"cpu.usage") +
                 bytes([4 << 3 | 1]) + struct.pack("<d", float(i)))
        out += ld(3, point)
    return out


def grpc_message(body):
    return b"\0" + struct.pack(">I", len(body)) + body


def request_headers(extra=(), path=PATH, content_type="application/grpc"):
    return [(":method", "POST"), (":scheme", "http"), (":path", path),
            (":authority", "127.0.0.1:%d" % PORT), ("content-type", content_type),
            ("te", "trailers"), ("authorization", "Bearer " + TOKEN)] + list(extra)


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(
        ">I", stream) + payload


def connect():
    sock = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Failure(Exception):
    pass


def expect(condition, why):
    if not condition:
        raise Failure(why)


# ---- With hyper-h2: it checks every frame the server sends.

class H2:
    def __init__(self, settings=None, byte_by_byte=False):
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        if settings:
            self.conn.local_settings = h2.settings.Settings(client=True, initial_values=settings)
        self.conn.initiate_connection()
        self.sock = connect()
        self.byte_by_byte = byte_by_byte
        self.events = []
        self.raw = b""
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if self.byte_by_byte:
            for i in range(len(data)):
                self.sock.sendall(data[i:i + 1])
        else:
            self.sock.sendall(data)

    def send_raw(self, data):
        self.flush()
        self.sock.sendall(data)

    def pump(self, until, timeout=5):
        deadline = time.time() + timeout
        while not until():
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise Failure("timed out; events: %r" % self.events[-6:])
            if not data:
                raise Failure("connection closed; events: %r" % self.events[-6:])
            self.raw += data
            for event in self.conn.receive_data(data):
                self.events.append(event)
                if isinstance(event, h2.events.DataReceived):
                    self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                        event.stream_id)
            self.flush()

    def stream_events(self, stream_id):
        return [e for e in self.events if getattr(e, "stream_id", None) == stream_id]

    def ended(self, stream_id):
        return any(isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset))
                   for e in self.stream_events(stream_id))

    def response(self, stream_id):
        """(headers, body, trailers) once the stream has ended."""
        self.pump(lambda: self.ended(stream_id))
        headers, body, trailers = {}, b"", {}
        for event in self.stream_events(stream_id):
            if isinstance(event, h2.events.StreamReset):
                raise Failure("stream %d reset with %r" % (stream_id, event.error_code))
            if isinstance(event, h2.events.ResponseReceived):
                headers = dict(event.headers)
            if isinstance(event, h2.events.DataReceived):
                body += event.data
            if isinstance(event, h2.events.TrailersReceived):
                trailers = dict(event.headers)
        status = trailers or headers
        return headers, body, status

    def call(self, stream_id, body, extra=(), **kwargs):
        self.conn.send_headers(stream_id, request_headers(extra, **kwargs))
        self.conn.send_data(stream_id, grpc_message(body), end_stream=True)
        self.flush()
        return self.response(stream_id)

    def close(self):
        self.sock.close()


def check_ok(response, what="the call"):
    headers, body, status = response
    expect(headers.get(":status") == "200", "%s: HTTP status %r" % (what, headers))
    expect(headers.get("content-type", "").startswith("application/grpc"),
           "%s: content-type %r" % (what, headers))
    expect(status.get("grpc-status") == "0", "%s: %r" % (what, status))
    expect(len(body) >= 5 and body[0] == 0 and struct.unpack(">I", body[1:5])[0] == len(body) - 5,
           "%s: reply %r" % (what, body))


def case_unary():
    c = H2()
    check_ok(c.call(1, batch()))
    check_ok(c.call(3, batch()), "a second call on the connection")
    c.close()


def case_byte_by_byte():
    c = H2(byte_by_byte=True)
    check_ok(c.call(1, batch()))
    c.close()


def case_many_data_frames():
    c = H2()
    c.conn.send_headers(1, request_headers())
    message = grpc_message(batch(points=5))
    for i in range(len(message)):
        c.conn.send_data(1, message[i:i + 1])
    c.conn.send_data(1, b"", end_stream=True)
    c.flush()
    check_ok(c.response(1))
    c.close()


def case_padding_priority_unknown():
    c = H2()
    c.send_raw(frame(0xFA, 0xFF, 0, b"extension") + frame(PRIORITY, 0, 1, struct.pack(">IB", 0, 15)))
    c.conn.send_headers(1, request_headers(), priority_weight=200, priority_depends_on=0)
    c.flush()
    c.send_raw(frame(0xFB, 0, 1, b"on the stream") + frame(PRIORITY, 0, 1, struct.pack(">IB", 0, 3)))
    c.conn.send_data(1, grpc_message(batch()), end_stream=True, pad_length=40)
    c.flush()
    check_ok(c.response(1))
    # PRIORITY for a stream not yet opened, then that stream.
    c.send_raw(frame(PRIORITY, 0, 7, struct.pack(">IB", 0, 3)))
    check_ok(c.call(5, batch()), "after PRIORITY on an idle stream")
    c.close()


def case_window_settings():
    # The server may send no DATA until the client opens the stream window by SETTINGS.
    c = H2(settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    c.conn.send_headers(1, request_headers())
    c.conn.send_data(1, grpc_message(batch()), end_stream=True)
    c.flush()
    c.pump(lambda: any(isinstance(e, h2.events.ResponseReceived) for e in c.events))
    time.sleep(0.2)
    c.pump(lambda: True)
    expect(not any(isinstance(e, h2.events.DataReceived) for e in c.events),
           "DATA sent into a window of 0")
    c.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 7})
    c.flush()
    check_ok(c.response(1))
    sizes = [len(e.data) for e in c.events if isinstance(e, h2.events.DataReceived)]
    expect(max(sizes) <= 7, "DATA frames over the stream window: %r" % sizes)
    c.close()


def case_header_table_size_0():
    c = H2(settings={h2.settings.SettingCodes.HEADER_TABLE_SIZE: 0})
    c.pump(lambda: any(isinstance(e, h2.events.SettingsAcknowledged) for e in c.events))
    seen = len(c.raw)
    check_ok(c.call(1, batch()))
    # RFC 7541 §4.2: the first header block after the ACK starts with a table size update.
    raw = c.raw[seen:]
    at = 0
    while at < len(raw):
        length = struct.unpack(">I", b"\0" + raw[at:at + 3])[0]
        kind, flags = raw[at + 3], raw[at + 4]
        if kind == HEADERS:
            start = at + 9 + (1 if flags & PADDED else 0) + (5 if flags & PRIORITY_FLAG else 0)
            expect(raw[start] & 0xE0 == 0x20, "no dynamic table size update: %r" %
                   raw[start:start + 4])
            break
        at += 9 + length
    c.close()


def case_small_max_frame_and_long_message():
    # A grpc-message as long as the server will send, in multi-byte UTF-8: the header block
    # must still fit the client's SETTINGS_MAX_FRAME_SIZE (16 KiB), CONTINUATION if need be.
    c = H2()
    c.conn.send_headers(1, request_headers(content_type="text/plain; " + "中" * 3000),
                        end_stream=True)
    c.flush()
    headers, _, status = c.response(1)
    expect(headers.get(":status") == "415", "HTTP status %r" % headers)
    expect(status.get("grpc-message", "").startswith("expected a gRPC POST"), repr(status)[:200])
    c.close()


def case_grpc_variants():
    c = H2()
    stream = 1
    for extra, content_type in [
        ((("user-agent", "tonic/0.11.0"),), "application/grpc"),
        ((("user-agent", "grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)"),), "application/grpc"),
        ((("user-agent", "grpc-node-js/1.14.7"),), "application/grpc+proto"),
        ((("grpc-encoding", "identity"), ("grpc-accept-encoding", "identity,deflate,gzip")),
         "application/grpc"),
        ((("grpc-timeout", "10S"),), "application/grpc; charset=utf-8"),
    ]:
        check_ok(c.call(stream, batch(), extra, content_type=content_type), repr(extra))
        stream += 2
    _, _, status = c.call(stream, batch(), (("grpc-encoding", "gzip"),))
    expect(status.get("grpc-status") == "12", "gzip: %r" % status)
    expect("identity" in status.get("grpc-accept-encoding", ""), "no grpc-accept-encoding: %r" %
           status)
    c.close()


def case_odd_messages():
    c = H2()
    # A zero-length message is a message: the server answers with a status, not a reset.
    _, _, status = c.call(1, b"")
    expect("grpc-status" in status, "zero-length: %r" % status)
    # HEADERS with END_STREAM and no DATA: no message.
    c.conn.send_headers(3, request_headers(), end_stream=True)
    c.flush()
    _, _, status = c.response(3)
    expect(status.get("grpc-status") == "12", "no message: %r" % status)
    # Two messages on a unary call.
    c.conn.send_headers(5, request_headers())
    c.conn.send_data(5, grpc_message(batch()) + grpc_message(batch()), end_stream=True)
    c.flush()
    _, _, status = c.response(5)
    expect(status.get("grpc-status") == "12", "two messages: %r" % status)
    # Without a token: trailers-only UNAUTHENTICATED.
    c.conn.send_headers(7, [h for h in request_headers() if h[0] != "authorization"])
    c.conn.send_data(7, grpc_message(batch()), end_stream=True)
    c.flush()
    headers, body, status = c.response(7)
    expect(body == b"" and headers.get("grpc-status") == "16", "unauthenticated: %r" % headers)
    # A reset call, then the connection still serves.
    c.conn.send_headers(9, request_headers())
    c.conn.reset_stream(9, 8)
    c.flush()
    check_ok(c.call(11, batch()), "after RST_STREAM")
    # PING
    c.conn.ping(b"oxmon-h2")
    c.flush()
    c.pump(lambda: any(isinstance(e, h2.events.PingAckReceived) and e.ping_data == b"oxmon-h2"
                       for e in c.events))
    c.close()


# ---- Hand-made frames: what a strict client library will not send.

class Raw:
    def __init__(self):
        self.sock = connect()
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.buffer = b""
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))

    def send(self, *frames):
        self.sock.sendall(b"".join(frames))

    def headers(self, stream, fields, flags=END_HEADERS):
        return frame(HEADERS, flags, stream, self.encoder.encode(fields))

    def read(self, timeout=5):
        """Frames until the connection closes or `timeout` passes in silence."""
        frames = []
        self.sock.settimeout(timeout)
        while True:
            while len(self.buffer) >= 9:
                length = struct.unpack(">I", b"\0" + self.buffer[:3])[0]
                if len(self.buffer) < 9 + length:
                    break
                kind, flags = self.buffer[3], self.buffer[4]
                stream = struct.unpack(">I", self.buffer[5:9])[0] & 0x7FFFFFFF
                frames.append((kind, flags, stream, self.buffer[9:9 + length]))
                self.buffer = self.buffer[9 + length:]
            if frames and frames[-1][0] == GOAWAY:
                return frames
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, ConnectionResetError):
                return frames
            if not data:
                return frames
            self.buffer += data
            # Once the server has spoken, a short silence means it has said all it will.
            self.sock.settimeout(min(timeout, 0.2))

    def close(self):
        self.sock.close()


def reset_code(frames, stream):
    for kind, _, id, payload in frames:
        if kind == RST_STREAM and id == stream:
            return struct.unpack(">I", payload)[0]
    return None


def goaway(frames):
    for kind, _, _, payload in frames:
        if kind == GOAWAY:
            return struct.unpack(">II", payload[:8])
    return None


def case_malformed_requests():
    failed = []
    for name, fields in [
        ("uppercase name", request_headers((("Agent-Id", "x"),))),
        ("connection header", request_headers((("connection", "keep-alive"),))),
        ("te other than trailers", [f for f in request_headers() if f[0] != "te"] +
         [("te", "gzip")]),
        ("two :path", request_headers(((":path", PATH),))),
        ("pseudo-header after a field", request_headers() + [(":authority", "x")]),
        ("unknown pseudo-header", request_headers() + [(":protocol", "x")]),
        ("response pseudo-header", request_headers() + [(":status", "200")]),
        ("empty :path", request_headers(path="")),
    ]:
        raw = Raw()
        # Pseudo-headers must come first: put them where the case wants them by hand.
        raw.send(raw.headers(1, fields))
        frames = raw.read(timeout=1)
        raw.close()
        if not (reset_code(frames, 1) == PROTOCOL_ERROR or goaway(frames) and
                goaway(frames)[1] == PROTOCOL_ERROR):
            failed.append("%s: %r" % (name, [f[:3] for f in frames]))
    expect(not failed, "no PROTOCOL_ERROR for " + "; ".join(failed))


def case_stream_errors():
    raw = Raw()
    raw.send(raw.headers(1, request_headers()),
             frame(DATA, END_STREAM, 1, grpc_message(batch())),
             frame(DATA, 0, 1, b"late"))
    frames = raw.read(timeout=1)
    expect(reset_code(frames, 1) == STREAM_CLOSED,
           "DATA after END_STREAM: %r" % [f[:3] for f in frames])
    raw.send(raw.headers(3, request_headers()), frame(WINDOW_UPDATE, 0, 3, struct.pack(">I", 0)))
    frames = raw.read(timeout=1)
    expect(reset_code(frames, 3) == PROTOCOL_ERROR, "stream WINDOW_UPDATE of 0: %r" %
           [f[:3] for f in frames])
    raw.send(frame(PRIORITY, 0, 5, struct.pack(">IB", 5, 0)))
    frames = raw.read(timeout=1)
    expect(reset_code(frames, 5) == PROTOCOL_ERROR, "PRIORITY on itself: %r" %
           [f[:3] for f in frames])
    # Then a connection error: GOAWAY names the last stream the server took.
    raw.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0)))
    frames = raw.read()
    expect(goaway(frames) == (3, PROTOCOL_ERROR), "connection WINDOW_UPDATE of 0: %r" %
           (goaway(frames),))
    raw.close()


def case_padded_headers():
    raw = Raw()
    block = raw.encoder.encode(request_headers())
    payload = bytes([17]) + struct.pack(">IB", 0, 10) + block + b"\0" * 17
    raw.send(frame(HEADERS, END_HEADERS | PADDED | PRIORITY_FLAG, 1, payload),
             frame(DATA, END_STREAM | PADDED, 1, bytes([3]) + grpc_message(batch()) + b"\0\0\0"))
    frames = raw.read(timeout=1)
    statuses = [raw.decoder.decode(f[3]) for f in frames if f[0] == HEADERS]
    expect(any(("grpc-status", "0") in s for s in statuses), "padded: %r" % statuses)
    raw.close()


def case_size_update_after_field():
    raw = Raw()
    block = raw.encoder.encode(request_headers()) + b"\x20"
    raw.send(frame(HEADERS, END_HEADERS, 1, block))
    frames = raw.read()
    expect(goaway(frames) and goaway(frames)[1] == COMPRESSION_ERROR,
           "table size update after a field: %r" % [f[:3] for f in frames])
    raw.close()


def case_continuation_flood():
    raw = Raw()
    raw.send(frame(HEADERS, 0, 1, raw.encoder.encode(request_headers())))
    try:
        for _ in range(100):
            raw.send(frame(CONTINUATION, 0, 1) * 1000)
    except (BrokenPipeError, ConnectionResetError):
        pass
    frames = raw.read()
    expect(goaway(frames) is not None, "100,000 empty CONTINUATION frames taken: %r" %
           [f[:3] for f in frames])
    raw.close()


CASES = [(name[5:], fn) for name, fn in sorted(globals().items()) if name.startswith("case_")]
for name, fn in CASES:
    if ONLY and name not in ONLY:
        continue
    try:
        fn()
        print(name, "ok", flush=True)
    except Exception as error:  # noqa: BLE001 — every failure is reported, the run goes on
        print(name, "FAIL", type(error).__name__, str(error)[:400].replace("\n", " "), flush=True)
