/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-mixed-operators, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars, default-case, jsdoc/require-param*/
import $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;
const $Object = $util.global.Object, $undefined = $util.global.undefined, $Error = $util.global.Error, $RangeError = $util.global.RangeError;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const oxmon = $root.oxmon = (() => {

    /**
     * Namespace oxmon.
     * @exports oxmon
     * @namespace
     */
    const oxmon = {};

    oxmon.MetricDataPointProto = (function() {

        /**
         * Properties of a MetricDataPointProto.
         * @typedef {Object} oxmon.MetricDataPointProto.$Properties
         * @property {number|null} [timestampMs] MetricDataPointProto timestampMs
         * @property {string|null} [agentId] MetricDataPointProto agentId
         * @property {string|null} [metricName] MetricDataPointProto metricName
         * @property {number|null} [value] MetricDataPointProto value
         * @property {Object.<string,string>|null} [labels] MetricDataPointProto labels
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a MetricDataPointProto.
         * @memberof oxmon
         * @interface IMetricDataPointProto
         * @augments oxmon.MetricDataPointProto.$Properties
         * @deprecated Use oxmon.MetricDataPointProto.$Properties instead.
         */

        /**
         * Shape of a MetricDataPointProto.
         * @typedef {oxmon.MetricDataPointProto.$Properties} oxmon.MetricDataPointProto.$Shape
         */

        /**
         * Constructs a new MetricDataPointProto.
         * @memberof oxmon
         * @classdesc Represents a MetricDataPointProto.
         * @constructor
         * @param {oxmon.MetricDataPointProto.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const MetricDataPointProto = function (properties) {
            this.labels = {};
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * MetricDataPointProto timestampMs.
         * @member {number} timestampMs
         * @memberof oxmon.MetricDataPointProto
         * @instance
         */
        MetricDataPointProto.prototype.timestampMs = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

        /**
         * MetricDataPointProto agentId.
         * @member {string} agentId
         * @memberof oxmon.MetricDataPointProto
         * @instance
         */
        MetricDataPointProto.prototype.agentId = "";

        /**
         * MetricDataPointProto metricName.
         * @member {string} metricName
         * @memberof oxmon.MetricDataPointProto
         * @instance
         */
        MetricDataPointProto.prototype.metricName = "";

        /**
         * MetricDataPointProto value.
         * @member {number} value
         * @memberof oxmon.MetricDataPointProto
         * @instance
         */
        MetricDataPointProto.prototype.value = 0;

        /**
         * MetricDataPointProto labels.
         * @member {Object.<string,string>} labels
         * @memberof oxmon.MetricDataPointProto
         * @instance
         */
        MetricDataPointProto.prototype.labels = $util.emptyObject;

        /**
         * Encodes the specified MetricDataPointProto message. Does not implicitly {@link oxmon.MetricDataPointProto.verify|verify} messages.
         * @function encode
         * @memberof oxmon.MetricDataPointProto
         * @static
         * @param {oxmon.MetricDataPointProto.$Properties} message MetricDataPointProto message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        MetricDataPointProto.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.timestampMs != null && $Object.hasOwnProperty.call(message, "timestampMs") && (typeof message.timestampMs === "object" ? message.timestampMs.low || message.timestampMs.high : message.timestampMs !== 0))
                writer.uint32(/* id 1, wireType 0 =*/8).int64(message.timestampMs);
            if (message.agentId != null && $Object.hasOwnProperty.call(message, "agentId") && message.agentId !== "")
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.agentId);
            if (message.metricName != null && $Object.hasOwnProperty.call(message, "metricName") && message.metricName !== "")
                writer.uint32(/* id 3, wireType 2 =*/26).string(message.metricName);
            if (message.value != null && $Object.hasOwnProperty.call(message, "value") && !$Object.is(message.value, 0))
                writer.uint32(/* id 4, wireType 1 =*/33).double(message.value);
            if (message.labels != null && $Object.hasOwnProperty.call(message, "labels"))
                for (let keys = $Object.keys(message.labels), i = 0; i < keys.length; ++i)
                    writer.uint32(/* id 5, wireType 2 =*/42).fork().uint32(/* id 1, wireType 2 =*/10).string(keys[i]).uint32(/* id 2, wireType 2 =*/18).string(message.labels[keys[i]]).ldelim();
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a MetricDataPointProto message from the specified reader or buffer.
         * @function decode
         * @memberof oxmon.MetricDataPointProto
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {oxmon.MetricDataPointProto & oxmon.MetricDataPointProto.$Shape} MetricDataPointProto
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        MetricDataPointProto.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, key, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.oxmon.MetricDataPointProto();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 0)
                            break;
                        if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                            message.timestampMs = value;
                        else
                            delete message.timestampMs;
                        continue;
                    }
                case 2: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.agentId = value;
                        else
                            delete message.agentId;
                        continue;
                    }
                case 3: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.metricName = value;
                        else
                            delete message.metricName;
                        continue;
                    }
                case 4: {
                        if (wireType !== 1)
                            break;
                        if (!$Object.is(value = reader.double(), 0))
                            message.value = value;
                        else
                            delete message.value;
                        continue;
                    }
                case 5: {
                        if (wireType !== 2)
                            break;
                        if (message.labels === $util.emptyObject)
                            message.labels = {};
                        let end2 = reader.size() + reader.pos;
                        if (end2 > reader.len)
                            throw $RangeError("index out of range");
                        reader.len = end2;
                        key = "";
                        value = "";
                        while (reader.pos < end2) {
                            let tag2 = reader.tag();
                            wireType = tag2 & 7;
                            switch (tag2 >>>= 3) {
                            case 1:
                                if (wireType !== 2)
                                    break;
                                key = reader.stringVerify();
                                continue;
                            case 2:
                                if (wireType !== 2)
                                    break;
                                value = reader.stringVerify();
                                continue;
                            }
                            reader.skipType(wireType, _depth, tag2);
                        }
                        if (reader.pos !== end2)
                            throw $RangeError("index out of range");
                        reader.len = end;
                        if (key === "__proto__")
                            $util.makeProp(message.labels, key);
                        message.labels[key] = value;
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        /**
         * Gets the type url for MetricDataPointProto
         * @function getTypeUrl
         * @memberof oxmon.MetricDataPointProto
         * @static
         * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns {string} The type url
         */
        MetricDataPointProto.getTypeUrl = function(prefix) {
            if (prefix === $undefined)
                prefix = "type.googleapis.com";
            return prefix + "/oxmon.MetricDataPointProto";
        };

        return MetricDataPointProto;
    })();

    oxmon.SystemInfoProto = (function() {

        /**
         * Properties of a SystemInfoProto.
         * @typedef {Object} oxmon.SystemInfoProto.$Properties
         * @property {string|null} [hostname] SystemInfoProto hostname
         * @property {string|null} [os] SystemInfoProto os
         * @property {string|null} [osVersion] SystemInfoProto osVersion
         * @property {string|null} [arch] SystemInfoProto arch
         * @property {string|null} [kernelVersion] SystemInfoProto kernelVersion
         * @property {number|null} [cpuCores] SystemInfoProto cpuCores
         * @property {number|null} [memoryGb] SystemInfoProto memoryGb
         * @property {number|null} [diskGb] SystemInfoProto diskGb
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a SystemInfoProto.
         * @memberof oxmon
         * @interface ISystemInfoProto
         * @augments oxmon.SystemInfoProto.$Properties
         * @deprecated Use oxmon.SystemInfoProto.$Properties instead.
         */

        /**
         * Shape of a SystemInfoProto.
         * @typedef {oxmon.SystemInfoProto.$Properties} oxmon.SystemInfoProto.$Shape
         */

        /**
         * Constructs a new SystemInfoProto.
         * @memberof oxmon
         * @classdesc Represents a SystemInfoProto.
         * @constructor
         * @param {oxmon.SystemInfoProto.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const SystemInfoProto = function (properties) {
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * SystemInfoProto hostname.
         * @member {string} hostname
         * @memberof oxmon.SystemInfoProto
         * @instance
         */
        SystemInfoProto.prototype.hostname = "";

        /**
         * SystemInfoProto os.
         * @member {string} os
         * @memberof oxmon.SystemInfoProto
         * @instance
         */
        SystemInfoProto.prototype.os = "";

        /**
         * SystemInfoProto osVersion.
         * @member {string} osVersion
         * @memberof oxmon.SystemInfoProto
         * @instance
         */
        SystemInfoProto.prototype.osVersion = "";

        /**
         * SystemInfoProto arch.
         * @member {string} arch
         * @memberof oxmon.SystemInfoProto
         * @instance
         */
        SystemInfoProto.prototype.arch = "";

        /**
         * SystemInfoProto kernelVersion.
         * @member {string} kernelVersion
         * @memberof oxmon.SystemInfoProto
         * @instance
         */
        SystemInfoProto.prototype.kernelVersion = "";

        /**
         * SystemInfoProto cpuCores.
         * @member {number} cpuCores
         * @memberof oxmon.SystemInfoProto
         * @instance
         */
        SystemInfoProto.prototype.cpuCores = 0;

        /**
         * SystemInfoProto memoryGb.
         * @member {number} memoryGb
         * @memberof oxmon.SystemInfoProto
         * @instance
         */
        SystemInfoProto.prototype.memoryGb = 0;

        /**
         * SystemInfoProto diskGb.
         * @member {number} diskGb
         * @memberof oxmon.SystemInfoProto
         * @instance
         */
        SystemInfoProto.prototype.diskGb = 0;

        /**
         * Encodes the specified SystemInfoProto message. Does not implicitly {@link oxmon.SystemInfoProto.verify|verify} messages.
         * @function encode
         * @memberof oxmon.SystemInfoProto
         * @static
         * @param {oxmon.SystemInfoProto.$Properties} message SystemInfoProto message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        SystemInfoProto.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.hostname != null && $Object.hasOwnProperty.call(message, "hostname") && message.hostname !== "")
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.hostname);
            if (message.os != null && $Object.hasOwnProperty.call(message, "os") && message.os !== "")
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.os);
            if (message.osVersion != null && $Object.hasOwnProperty.call(message, "osVersion") && message.osVersion !== "")
                writer.uint32(/* id 3, wireType 2 =*/26).string(message.osVersion);
            if (message.arch != null && $Object.hasOwnProperty.call(message, "arch") && message.arch !== "")
                writer.uint32(/* id 4, wireType 2 =*/34).string(message.arch);
            if (message.kernelVersion != null && $Object.hasOwnProperty.call(message, "kernelVersion") && message.kernelVersion !== "")
                writer.uint32(/* id 5, wireType 2 =*/42).string(message.kernelVersion);
            if (message.cpuCores != null && $Object.hasOwnProperty.call(message, "cpuCores") && message.cpuCores !== 0)
                writer.uint32(/* id 6, wireType 0 =*/48).int32(message.cpuCores);
            if (message.memoryGb != null && $Object.hasOwnProperty.call(message, "memoryGb") && !$Object.is(message.memoryGb, 0))
                writer.uint32(/* id 7, wireType 1 =*/57).double(message.memoryGb);
            if (message.diskGb != null && $Object.hasOwnProperty.call(message, "diskGb") && !$Object.is(message.diskGb, 0))
                writer.uint32(/* id 8, wireType 1 =*/65).double(message.diskGb);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a SystemInfoProto message from the specified reader or buffer.
         * @function decode
         * @memberof oxmon.SystemInfoProto
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {oxmon.SystemInfoProto & oxmon.SystemInfoProto.$Shape} SystemInfoProto
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        SystemInfoProto.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.oxmon.SystemInfoProto();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.hostname = value;
                        else
                            delete message.hostname;
                        continue;
                    }
                case 2: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.os = value;
                        else
                            delete message.os;
                        continue;
                    }
                case 3: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.osVersion = value;
                        else
                            delete message.osVersion;
                        continue;
                    }
                case 4: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.arch = value;
                        else
                            delete message.arch;
                        continue;
                    }
                case 5: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.kernelVersion = value;
                        else
                            delete message.kernelVersion;
                        continue;
                    }
                case 6: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.int32())
                            message.cpuCores = value;
                        else
                            delete message.cpuCores;
                        continue;
                    }
                case 7: {
                        if (wireType !== 1)
                            break;
                        if (!$Object.is(value = reader.double(), 0))
                            message.memoryGb = value;
                        else
                            delete message.memoryGb;
                        continue;
                    }
                case 8: {
                        if (wireType !== 1)
                            break;
                        if (!$Object.is(value = reader.double(), 0))
                            message.diskGb = value;
                        else
                            delete message.diskGb;
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        /**
         * Gets the type url for SystemInfoProto
         * @function getTypeUrl
         * @memberof oxmon.SystemInfoProto
         * @static
         * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns {string} The type url
         */
        SystemInfoProto.getTypeUrl = function(prefix) {
            if (prefix === $undefined)
                prefix = "type.googleapis.com";
            return prefix + "/oxmon.SystemInfoProto";
        };

        return SystemInfoProto;
    })();

    oxmon.MetricBatchProto = (function() {

        /**
         * Properties of a MetricBatchProto.
         * @typedef {Object} oxmon.MetricBatchProto.$Properties
         * @property {string|null} [agentId] MetricBatchProto agentId
         * @property {number|null} [timestampMs] MetricBatchProto timestampMs
         * @property {Array.<oxmon.MetricDataPointProto.$Properties>|null} [dataPoints] MetricBatchProto dataPoints
         * @property {oxmon.SystemInfoProto.$Properties|null} [systemInfo] MetricBatchProto systemInfo
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a MetricBatchProto.
         * @memberof oxmon
         * @interface IMetricBatchProto
         * @augments oxmon.MetricBatchProto.$Properties
         * @deprecated Use oxmon.MetricBatchProto.$Properties instead.
         */

        /**
         * Shape of a MetricBatchProto.
         * @typedef {oxmon.MetricBatchProto.$Properties} oxmon.MetricBatchProto.$Shape
         */

        /**
         * Constructs a new MetricBatchProto.
         * @memberof oxmon
         * @classdesc Represents a MetricBatchProto.
         * @constructor
         * @param {oxmon.MetricBatchProto.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const MetricBatchProto = function (properties) {
            this.dataPoints = [];
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * MetricBatchProto agentId.
         * @member {string} agentId
         * @memberof oxmon.MetricBatchProto
         * @instance
         */
        MetricBatchProto.prototype.agentId = "";

        /**
         * MetricBatchProto timestampMs.
         * @member {number} timestampMs
         * @memberof oxmon.MetricBatchProto
         * @instance
         */
        MetricBatchProto.prototype.timestampMs = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

        /**
         * MetricBatchProto dataPoints.
         * @member {Array.<oxmon.MetricDataPointProto.$Properties>} dataPoints
         * @memberof oxmon.MetricBatchProto
         * @instance
         */
        MetricBatchProto.prototype.dataPoints = $util.emptyArray;

        /**
         * MetricBatchProto systemInfo.
         * @member {oxmon.SystemInfoProto.$Properties|null|undefined} systemInfo
         * @memberof oxmon.MetricBatchProto
         * @instance
         */
        MetricBatchProto.prototype.systemInfo = null;

        // OneOf field names bound to virtual getters and setters
        let $oneOfFields;

        // Virtual OneOf for proto3 optional field
        $Object.defineProperty(MetricBatchProto.prototype, "_systemInfo", {
            get: $util.oneOfGetter($oneOfFields = ["systemInfo"]),
            set: $util.oneOfSetter($oneOfFields)
        });

        /**
         * Encodes the specified MetricBatchProto message. Does not implicitly {@link oxmon.MetricBatchProto.verify|verify} messages.
         * @function encode
         * @memberof oxmon.MetricBatchProto
         * @static
         * @param {oxmon.MetricBatchProto.$Properties} message MetricBatchProto message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        MetricBatchProto.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.agentId != null && $Object.hasOwnProperty.call(message, "agentId") && message.agentId !== "")
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.agentId);
            if (message.timestampMs != null && $Object.hasOwnProperty.call(message, "timestampMs") && (typeof message.timestampMs === "object" ? message.timestampMs.low || message.timestampMs.high : message.timestampMs !== 0))
                writer.uint32(/* id 2, wireType 0 =*/16).int64(message.timestampMs);
            if (message.dataPoints != null && message.dataPoints.length)
                for (let i = 0; i < message.dataPoints.length; ++i)
                    $root.oxmon.MetricDataPointProto.encode(message.dataPoints[i], writer.uint32(/* id 3, wireType 2 =*/26).fork(), _depth + 1).ldelim();
            if (message.systemInfo != null && $Object.hasOwnProperty.call(message, "systemInfo"))
                $root.oxmon.SystemInfoProto.encode(message.systemInfo, writer.uint32(/* id 4, wireType 2 =*/34).fork(), _depth + 1).ldelim();
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a MetricBatchProto message from the specified reader or buffer.
         * @function decode
         * @memberof oxmon.MetricBatchProto
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {oxmon.MetricBatchProto & oxmon.MetricBatchProto.$Shape} MetricBatchProto
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        MetricBatchProto.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.oxmon.MetricBatchProto();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.agentId = value;
                        else
                            delete message.agentId;
                        continue;
                    }
                case 2: {
                        if (wireType !== 0)
                            break;
                        if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                            message.timestampMs = value;
                        else
                            delete message.timestampMs;
                        continue;
                    }
                case 3: {
                        if (wireType !== 2)
                            break;
                        if (!(message.dataPoints && message.dataPoints.length))
                            message.dataPoints = [];
                        message.dataPoints.push($root.oxmon.MetricDataPointProto.decode(reader, reader.size(), $undefined, _depth + 1));
                        continue;
                    }
                case 4: {
                        if (wireType !== 2)
                            break;
                        message.systemInfo = $root.oxmon.SystemInfoProto.decode(reader, reader.size(), $undefined, _depth + 1, message.systemInfo);
                        message._systemInfo = "systemInfo";
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        /**
         * Gets the type url for MetricBatchProto
         * @function getTypeUrl
         * @memberof oxmon.MetricBatchProto
         * @static
         * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns {string} The type url
         */
        MetricBatchProto.getTypeUrl = function(prefix) {
            if (prefix === $undefined)
                prefix = "type.googleapis.com";
            return prefix + "/oxmon.MetricBatchProto";
        };

        return MetricBatchProto;
    })();

    oxmon.ReportResponse = (function() {

        /**
         * Properties of a ReportResponse.
         * @typedef {Object} oxmon.ReportResponse.$Properties
         * @property {boolean|null} [success] ReportResponse success
         * @property {string|null} [message] ReportResponse message
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a ReportResponse.
         * @memberof oxmon
         * @interface IReportResponse
         * @augments oxmon.ReportResponse.$Properties
         * @deprecated Use oxmon.ReportResponse.$Properties instead.
         */

        /**
         * Shape of a ReportResponse.
         * @typedef {oxmon.ReportResponse.$Properties} oxmon.ReportResponse.$Shape
         */

        /**
         * Constructs a new ReportResponse.
         * @memberof oxmon
         * @classdesc Represents a ReportResponse.
         * @constructor
         * @param {oxmon.ReportResponse.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const ReportResponse = function (properties) {
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * ReportResponse success.
         * @member {boolean} success
         * @memberof oxmon.ReportResponse
         * @instance
         */
        ReportResponse.prototype.success = false;

        /**
         * ReportResponse message.
         * @member {string} message
         * @memberof oxmon.ReportResponse
         * @instance
         */
        ReportResponse.prototype.message = "";

        /**
         * Encodes the specified ReportResponse message. Does not implicitly {@link oxmon.ReportResponse.verify|verify} messages.
         * @function encode
         * @memberof oxmon.ReportResponse
         * @static
         * @param {oxmon.ReportResponse.$Properties} message ReportResponse message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        ReportResponse.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.success != null && $Object.hasOwnProperty.call(message, "success") && message.success !== false)
                writer.uint32(/* id 1, wireType 0 =*/8).bool(message.success);
            if (message.message != null && $Object.hasOwnProperty.call(message, "message") && message.message !== "")
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.message);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a ReportResponse message from the specified reader or buffer.
         * @function decode
         * @memberof oxmon.ReportResponse
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {oxmon.ReportResponse & oxmon.ReportResponse.$Shape} ReportResponse
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        ReportResponse.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.oxmon.ReportResponse();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.bool())
                            message.success = value;
                        else
                            delete message.success;
                        continue;
                    }
                case 2: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.message = value;
                        else
                            delete message.message;
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        /**
         * Gets the type url for ReportResponse
         * @function getTypeUrl
         * @memberof oxmon.ReportResponse
         * @static
         * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns {string} The type url
         */
        ReportResponse.getTypeUrl = function(prefix) {
            if (prefix === $undefined)
                prefix = "type.googleapis.com";
            return prefix + "/oxmon.ReportResponse";
        };

        return ReportResponse;
    })();

    return oxmon;
})();

export {
  $root as default
};
