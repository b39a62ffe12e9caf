import * as $protobuf from "protobufjs";

/** Namespace oxmon. */
export namespace oxmon {

    /**
     * Properties of a MetricDataPointProto.
     * @deprecated Use oxmon.MetricDataPointProto.$Properties instead.
     */
    interface IMetricDataPointProto extends oxmon.MetricDataPointProto.$Properties {
    }

    /** Represents a MetricDataPointProto. */
    class MetricDataPointProto {

        /**
         * Constructs a new MetricDataPointProto.
         * @param [properties] Properties to set
         */
        constructor(properties?: oxmon.MetricDataPointProto.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** MetricDataPointProto timestampMs. */
        timestampMs: number;

        /** MetricDataPointProto agentId. */
        agentId: string;

        /** MetricDataPointProto metricName. */
        metricName: string;

        /** MetricDataPointProto value. */
        value: number;

        /** MetricDataPointProto labels. */
        labels: { [k: string]: string };

        /**
         * Encodes the specified MetricDataPointProto message. Does not implicitly {@link oxmon.MetricDataPointProto.verify|verify} messages.
         * @param message MetricDataPointProto message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: oxmon.MetricDataPointProto.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a MetricDataPointProto message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {oxmon.MetricDataPointProto & oxmon.MetricDataPointProto.$Shape} MetricDataPointProto
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): oxmon.MetricDataPointProto & oxmon.MetricDataPointProto.$Shape;

        /**
         * Gets the type url for MetricDataPointProto
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace MetricDataPointProto {

        /** Properties of a MetricDataPointProto. */
        interface $Properties {

            /** MetricDataPointProto timestampMs */
            timestampMs?: (number|null);

            /** MetricDataPointProto agentId */
            agentId?: (string|null);

            /** MetricDataPointProto metricName */
            metricName?: (string|null);

            /** MetricDataPointProto value */
            value?: (number|null);

            /** MetricDataPointProto labels */
            labels?: ({ [k: string]: string }|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a MetricDataPointProto. */
        type $Shape = oxmon.MetricDataPointProto.$Properties;
    }

    /**
     * Properties of a SystemInfoProto.
     * @deprecated Use oxmon.SystemInfoProto.$Properties instead.
     */
    interface ISystemInfoProto extends oxmon.SystemInfoProto.$Properties {
    }

    /** Represents a SystemInfoProto. */
    class SystemInfoProto {

        /**
         * Constructs a new SystemInfoProto.
         * @param [properties] Properties to set
         */
        constructor(properties?: oxmon.SystemInfoProto.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** SystemInfoProto hostname. */
        hostname: string;

        /** SystemInfoProto os. */
        os: string;

        /** SystemInfoProto osVersion. */
        osVersion: string;

        /** SystemInfoProto arch. */
        arch: string;

        /** SystemInfoProto kernelVersion. */
        kernelVersion: string;

        /** SystemInfoProto cpuCores. */
        cpuCores: number;

        /** SystemInfoProto memoryGb. */
        memoryGb: number;

        /** SystemInfoProto diskGb. */
        diskGb: number;

        /**
         * Encodes the specified SystemInfoProto message. Does not implicitly {@link oxmon.SystemInfoProto.verify|verify} messages.
         * @param message SystemInfoProto message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: oxmon.SystemInfoProto.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a SystemInfoProto message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {oxmon.SystemInfoProto & oxmon.SystemInfoProto.$Shape} SystemInfoProto
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): oxmon.SystemInfoProto & oxmon.SystemInfoProto.$Shape;

        /**
         * Gets the type url for SystemInfoProto
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace SystemInfoProto {

        /** Properties of a SystemInfoProto. */
        interface $Properties {

            /** SystemInfoProto hostname */
            hostname?: (string|null);

            /** SystemInfoProto os */
            os?: (string|null);

            /** SystemInfoProto osVersion */
            osVersion?: (string|null);

            /** SystemInfoProto arch */
            arch?: (string|null);

            /** SystemInfoProto kernelVersion */
            kernelVersion?: (string|null);

            /** SystemInfoProto cpuCores */
            cpuCores?: (number|null);

            /** SystemInfoProto memoryGb */
            memoryGb?: (number|null);

            /** SystemInfoProto diskGb */
            diskGb?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a SystemInfoProto. */
        type $Shape = oxmon.SystemInfoProto.$Properties;
    }

    /**
     * Properties of a MetricBatchProto.
     * @deprecated Use oxmon.MetricBatchProto.$Properties instead.
     */
    interface IMetricBatchProto extends oxmon.MetricBatchProto.$Properties {
    }

    /** Represents a MetricBatchProto. */
    class MetricBatchProto {

        /**
         * Constructs a new MetricBatchProto.
         * @param [properties] Properties to set
         */
        constructor(properties?: oxmon.MetricBatchProto.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** MetricBatchProto agentId. */
        agentId: string;

        /** MetricBatchProto timestampMs. */
        timestampMs: number;

        /** MetricBatchProto dataPoints. */
        dataPoints: oxmon.MetricDataPointProto.$Properties[];

        /** MetricBatchProto systemInfo. */
        systemInfo?: (oxmon.SystemInfoProto.$Properties|null);

        /**
         * Encodes the specified MetricBatchProto message. Does not implicitly {@link oxmon.MetricBatchProto.verify|verify} messages.
         * @param message MetricBatchProto message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: oxmon.MetricBatchProto.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a MetricBatchProto message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {oxmon.MetricBatchProto & oxmon.MetricBatchProto.$Shape} MetricBatchProto
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): oxmon.MetricBatchProto & oxmon.MetricBatchProto.$Shape;

        /**
         * Gets the type url for MetricBatchProto
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace MetricBatchProto {

        /** Properties of a MetricBatchProto. */
        interface $Properties {

            /** MetricBatchProto agentId */
            agentId?: (string|null);

            /** MetricBatchProto timestampMs */
            timestampMs?: (number|null);

            /** MetricBatchProto dataPoints */
            dataPoints?: (oxmon.MetricDataPointProto.$Properties[]|null);

            /** MetricBatchProto systemInfo */
            systemInfo?: (oxmon.SystemInfoProto.$Properties|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a MetricBatchProto. */
        type $Shape = oxmon.MetricBatchProto.$Properties;
    }

    /**
     * Properties of a ReportResponse.
     * @deprecated Use oxmon.ReportResponse.$Properties instead.
     */
    interface IReportResponse extends oxmon.ReportResponse.$Properties {
    }

    /** Represents a ReportResponse. */
    class ReportResponse {

        /**
         * Constructs a new ReportResponse.
         * @param [properties] Properties to set
         */
        constructor(properties?: oxmon.ReportResponse.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** ReportResponse success. */
        success: boolean;

        /** ReportResponse message. */
        message: string;

        /**
         * Encodes the specified ReportResponse message. Does not implicitly {@link oxmon.ReportResponse.verify|verify} messages.
         * @param message ReportResponse message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: oxmon.ReportResponse.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a ReportResponse message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {oxmon.ReportResponse & oxmon.ReportResponse.$Shape} ReportResponse
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): oxmon.ReportResponse & oxmon.ReportResponse.$Shape;

        /**
         * Gets the type url for ReportResponse
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace ReportResponse {

        /** Properties of a ReportResponse. */
        interface $Properties {

            /** ReportResponse success */
            success?: (boolean|null);

            /** ReportResponse message */
            message?: (string|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a ReportResponse. */
        type $Shape = oxmon.ReportResponse.$Properties;
    }
}
