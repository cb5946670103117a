import CChannelGuardSupport
import ChannelGuardCodes

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `channelguard index bench`: the radix index and a `Dictionary` keyed by the same ``IndexKey``,
/// side by side on the same keys, at sizes package-benchmark cannot hold.
public struct IndexBenchmark: Sendable {
    /// How serials are made.
    public enum Shape: String, Sendable, CaseIterable {
        /// Printed runs: 16 GTINs, 12-digit serials counting up from a random start.
        case sequential
        /// 64 GTINs, serials of 12–20 random letters and digits.
        case random
    }

    public var keys: Int
    public var shape: Shape
    public var shards = 1
    /// Passes over the lookups; the fastest is reported.
    public var rounds = 3
    /// Keys per batch in batched lookups (a decoded batch).
    public var batchSize = 1024
    /// Where the snapshot is written and read back.
    public var snapshotDirectory = "/tmp"
    public var seed: UInt64 = 1
    /// Which structures to run: `art`, `dictionary`.
    public var structures: Set<String> = ["art", "dictionary"]
    /// Receives diagnostic lines (free-list bytes); `nil` for none.
    public var report: (@Sendable (String) -> Void)?

    public init(keys: Int, shape: Shape) {
        self.keys = keys
        self.shape = shape
    }

    /// One structure's figures.
    public struct Result: Sendable {
        public var structure: String
        public var keys: Int
        public var shape: Shape
        /// Resident memory the structure added, per key.
        public var bytesPerKey: Double
        public var lookupsPerSecond: Double
        public var batchedLookupsPerSecond: Double
        public var insertsPerSecond: Double
        public var snapshotSaveSeconds: Double?
        public var snapshotLoadKeysPerSecond: Double?
        /// Time to compact the radix index after its bulk load.
        public var compactSeconds: Double?
        /// Bytes the structure accounts for itself (arenas, or the dictionary's allocation), per key.
        public var allocatedBytesPerKey: Double
        /// Lookups that found their key in the last pass (must equal `keys` × passes).
        public var found: Int

        /// Figures from what was measured: bytes, and the seconds each pass over all keys took.
        init(
            _ structure: String,
            keys: Int,
            shape: Shape,
            resident: Int,
            allocated: Int,
            seconds: (single: Double, batched: Double, inserts: Double),
            snapshot: (save: Double, load: Double)?,
            compact: Double?,
            found: Int
        ) {
            let count = Double(keys)
            self.structure = structure
            self.keys = keys
            self.shape = shape
            bytesPerKey = Double(resident) / count
            lookupsPerSecond = count / seconds.single
            batchedLookupsPerSecond = count / seconds.batched
            insertsPerSecond = count / seconds.inserts
            snapshotSaveSeconds = snapshot?.save
            snapshotLoadKeysPerSecond = snapshot.map { count / $0.load }
            compactSeconds = compact
            allocatedBytesPerKey = Double(allocated) / count
            self.found = found
        }

        public var json: String {
            var fields = [
                "\"structure\":\"\(structure)\"", "\"keys\":\(keys)", "\"shape\":\"\(shape.rawValue)\"",
                "\"bytes_per_key\":\(Self.format(bytesPerKey))", "\"lookups_per_s\":\(Int(lookupsPerSecond))",
                "\"batched_lookups_per_s\":\(Int(batchedLookupsPerSecond))",
                "\"inserts_per_s\":\(Int(insertsPerSecond))",
            ]
            if let save = snapshotSaveSeconds { fields.append("\"snapshot_save_s\":\(Self.format(save))") }
            if let load = snapshotLoadKeysPerSecond { fields.append("\"snapshot_load_keys_per_s\":\(Int(load))") }
            if let compact = compactSeconds { fields.append("\"compact_s\":\(Self.format(compact))") }
            fields.append("\"allocated_bytes_per_key\":\(Self.format(allocatedBytesPerKey))")
            return "{" + fields.joined(separator: ",") + "}"
        }

        static func format(_ value: Double) -> String {
            let scaled = (value * 1000).rounded() / 1000
            return String(scaled)
        }
    }

    /// The keys of a run, in insertion order.
    public func makeKeys() -> [IndexKey] {
        var random = SplitMix(seed: seed)
        let gtinCount = shape == .sequential ? 16 : 64
        let gtins = (0..<gtinCount).map { Self.gtin(6_901_234_000_000 / 10 + UInt64($0) * 7) }
        var keys: [IndexKey] = []
        keys.reserveCapacity(self.keys)
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var serial = [UInt8](repeating: 0, count: 20)
        switch shape {
        case .sequential:
            let perGTIN = (self.keys + gtinCount - 1) / gtinCount
            for gtin in gtins {
                let start = random.next() % 100_000_000_000
                for offset in 0..<UInt64(perGTIN) where keys.count < self.keys {
                    var value = start + offset
                    for position in stride(from: 11, through: 0, by: -1) {
                        serial[position] = UInt8(48 + value % 10)
                        value /= 10
                    }
                    keys.append(try! IndexKey(gtin: gtin, serial: serial[0..<12]))
                }
            }
        case .random:
            for _ in 0..<self.keys {
                let gtin = gtins[Int(random.next() % UInt64(gtinCount))]
                let length = 12 + Int(random.next() % 9)
                for position in 0..<length { serial[position] = alphabet[Int(random.next() % 62)] }
                keys.append(try! IndexKey(gtin: gtin, serial: serial[0..<length]))
            }
        }
        return keys
    }

    /// A GTIN-14 from 13 data digits.
    static func gtin(_ data: UInt64) -> UInt64 { data * 10 + IndexKey.checkDigit(data, dataDigits: 13) }

    static func binding(_ number: Int) -> SerialBinding {
        try! SerialBinding(
            distributor: Int64(number % 1_000_000 + 1),
            shipment: Int64(number / 100 + 1),
            boundAt: 1_750_000_000_000 + Int64(number) * 60_000
        )
    }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var value = state
            value = (value ^ value >> 30) &* 0xBF58_476D_1CE4_E5B9
            value = (value ^ value >> 27) &* 0x94D0_49BB_1331_11EB
            return value ^ value >> 31
        }
    }

    /// Resident memory of this process, after returning freed heap to the system.
    static func residentBytes() -> Int {
        cg_release_free_memory()
        let descriptor = open("/proc/self/statm", O_RDONLY)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, 127) }
        guard count > 0 else { return 0 }
        let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: " ")
        return (Int(fields.count > 1 ? fields[1] : "0") ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let elapsed = try clock.measure(body)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
