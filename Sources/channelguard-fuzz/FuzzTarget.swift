import ChannelGuardCodes
import ChannelGuardIndex
import Foundation

/// The decoders under fuzzing. Each takes arbitrary bytes and must never crash, hang or grow
/// without bound; every outcome is a decoded value or a rejection with a reason.
enum FuzzTarget: String, CaseIterable {
    /// Any code form: element strings, Digital Link and EPC URIs.
    case code
    /// Line-protocol datagrams.
    case line
    /// Whole binary frames (mostly rejected at authentication: exercises the header checks).
    case frame
    /// Binary records behind a valid signature: the input is the payload of a signed frame.
    case records
    /// Serial index snapshot files. An input whose first byte is odd gets its checksum recomputed
    /// first, so the fuzzer reaches the structure walk behind the checksum.
    case snapshot
    /// Event-log batch payloads (`scan_batches.payload` after zstd), as `replay` reads them. An
    /// accepted payload must re-encode to exactly the same bytes (the format is canonical).
    case logbatch

    static let secret: [UInt8] = Array(0...15)
    static let codes = CodeDecoder()
    static let lines = LineProtocolDecoder()
    static let frames = BinaryFrameDecoder { $0 == 7 ? FuzzTarget.secret : nil }
    static let encoder = BinaryFrameEncoder(gatewayID: 7, secret: FuzzTarget.secret)

    static let snapshotPath = NSTemporaryDirectory() + "channelguard-fuzz-\(getpid()).snapshot"
    static let snapshotKeys = ["A1", "A2", "A10", "B7", "SN000001", "SN000002", "RUN7001"].map {
        try! IndexKey(gtin: 6_901_234_567_892, serial: Array($0.utf8))
    }
    static let snapshotBinding = try! SerialBinding(distributor: 3, shipment: 4, boundAt: 1_780_000_000_000)

    /// Seed inputs for targets whose inputs are made, not typed: small snapshots (a flag byte, then
    /// the file).
    static func seeds(_ target: FuzzTarget) throws -> [[UInt8]] {
        if target == .logbatch { return logSeeds() }
        guard target == .snapshot else { return [] }
        var seeds: [[UInt8]] = []
        for (shards, count) in [(1, 3), (1, 7), (2, 7)] {
            let index = try SerialIndex(shardCount: shards)
            for key in snapshotKeys.prefix(count) { try index.bind(key, to: snapshotBinding) }
            try index.bindRange(gtin: 6_901_234_567_892, prefix: Array("RUN".utf8), to: snapshotBinding)
            try index.bindCarton(
                sscc: 106_141_411_234_567_897,
                contents: Array(snapshotKeys.prefix(2)),
                to: snapshotBinding
            )
            try index.compact()
            let path = snapshotPath + ".seed"
            try IndexSnapshot.write(index, to: path, watermark: 1, createdAt: 0)
            let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            try? FileManager.default.removeItem(atPath: path)
            seeds.append([0] + file)
            seeds.append([1] + file)
        }
        return seeds
    }

    /// Real payloads: decoded protocol lines, split between two gateways.
    static func logSeeds() -> [[UInt8]] {
        var batch = ScanBatch()
        let text = """
            sell 440305 2026-11-23T20:00:00+08:00 (01)06901234567892(21)A1B2 price=1999.00 party=ST-440305 device=POS-7 seq=9
            ship 440305 1795435200000 (00)106141411234567897 party=DEALER lat=22.5 lon=113.9
            inspect 110105 1795435200001 (01)06901234567892(21)SN000001
            """
        Array(text.utf8).withUnsafeBufferPointer { lines.decode($0, into: &batch) }
        var first = ScanBatch()
        var second = ScanBatch()
        for index in 0..<batch.count {
            if index < 2 { first.append(eventAt: index, of: batch) } else { second.append(eventAt: index, of: batch) }
        }
        return [
            ScanLogFormat.payload([(batch, 1)]), ScanLogFormat.payload([(first, 7), (second, 9)]),
            ScanLogFormat.payload([] as [ScanLogFormat.Part]),
        ]
    }

    func run(_ data: UnsafeBufferPointer<UInt8>) {
        switch self {
        case .logbatch:
            let bytes = Array(data)
            guard let (batch, gateways) = try? ScanBatch.fromLogPayload(bytes) else { return }
            // Re-encode in runs of one gateway: the same bytes must come out.
            var parts: [(batch: ScanBatch, gateway: UInt32)] = []
            for index in 0..<batch.count {
                if parts.last?.gateway != gateways[index] { parts.append((ScanBatch(), gateways[index])) }
                parts[parts.count - 1].batch.append(eventAt: index, of: batch)
            }
            precondition(ScanLogFormat.payload(parts) == bytes, "a log batch does not re-encode to itself")
        case .code:
            // An accepted code decodes the same from its own bracketed rendering (unless a value holds
            // '(', which bracketed syntax cannot always tell from the next AI).
            if case .success(let code) = Self.codes.decode(data),
                !code.elements.contains(where: { $0.value.contains("(") })
            {
                let bracketed = code.elements.map { "(\($0.ai))\($0.value)" }.joined()
                guard case .success(let again) = Self.codes.decode(bracketed), again.key == code.key else {
                    fatalError("accepted \(Array(data)) but not its bracketed form \(bracketed)")
                }
            }
        case .line:
            var batch = ScanBatch()
            Self.lines.decode(data, into: &batch)
            let lineCount = data.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 } + 1
            precondition(batch.count + batch.rejections.count <= lineCount, "more outcomes than lines")
        case .frame:
            var batch = ScanBatch()
            _ = Self.frames.decode(data, into: &batch)
        case .snapshot:
            guard let first = data.first else { return }
            var bytes = Array(data.dropFirst())
            if first & 1 == 1, bytes.count >= 24 { bytes = IndexSnapshot.resealed(bytes) }
            guard FileManager.default.createFile(atPath: Self.snapshotPath, contents: Data(bytes)),
                let (index, _) = try? IndexSnapshot.load(from: Self.snapshotPath)
            else { return }
            // A snapshot that loads answers lookups, batches, scans and changes without crashing.
            _ = index.lookup(Self.snapshotKeys)
            for key in Self.snapshotKeys {
                _ = index.lookup(key)
                _ = try? index.bind(key, to: Self.snapshotBinding)
            }
            try? index.forEachBinding(gtin: 6_901_234_567_892) { _, _ in true }
        case .records:
            guard let count = data.first else { return }
            let frame = Self.encoder.signedFrame(
                body: Array(data.dropFirst()),
                flags: [],
                recordCount: Int(count),
                sequence: 1
            )
            var batch = ScanBatch()
            guard case .success = frame.withUnsafeBufferPointer({ Self.frames.decode($0, into: &batch) }) else {
                fatalError("a correctly signed frame was rejected whole")
            }
            precondition(batch.count + batch.rejections.count >= Int(count), "a record went missing")
            // What was accepted re-encodes and decodes to the same events.
            if batch.count > 0, let again = try? Self.encoder.encode(batch, sequence: 2) {
                var second = ScanBatch()
                _ = again.withUnsafeBufferPointer { Self.frames.decode($0, into: &second) }
                precondition(second.count == batch.count && second.keys == batch.keys, "records do not round-trip")
            }
        }
    }
}
