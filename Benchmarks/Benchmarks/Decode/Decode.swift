import Benchmark
import ChannelGuardCodes
import Crypto

/// Decoding throughput and allocations, per batch of 1,000 events (events/s = throughput × 1,000).
let benchmarks: @Sendable () -> Void = {
    let events = 1_000
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .cpuTotal],
        warmupIterations: 3,
        maxDuration: .seconds(5),
        maxIterations: 10_000
    )

    let gtins = (0..<100).map { GTIN(dataDigits: "069012345" + String(10_000 + $0).suffix(4)).digits }
    let serial = { (index: Int) in "K" + String(1_000_000_000 + index) }
    let elementStrings = (0..<events).map { "(01)\(gtins[$0 % 100])(21)\(serial($0))" }
    let unbracketed = (0..<events).map { "]d201\(gtins[$0 % 100])21\(serial($0))\u{1D}17261231" }
    let digitalLinks = (0..<events).map { "https://id.example.com/01/\(gtins[$0 % 100])/21/\(serial($0))?17=261231" }
    // One second apart, as a gateway's scans are: the date repeats, the time of day does not.
    let lines = (0..<events).map {
        let two = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        let clock = "12:\(two($0 / 60 % 60)):\(two($0 % 60))"
        return "sell 440305 2026-11-23T\(clock)Z (01)\(gtins[$0 % 100])(21)\(serial($0)) price=1999.00 party=ST-440305"
    }.joined(separator: "\n")
    let decoder = CodeDecoder()
    let lineDecoder = LineProtocolDecoder(codes: decoder)

    var template = ScanBatch()
    let lineBytes = Array(lines.utf8)
    lineBytes.withUnsafeBufferPointer { lineDecoder.decode($0, into: &template) }
    precondition(template.count == events && template.rejections.isEmpty)
    let secret: [UInt8] = Array(0...15)
    let frame = try! BinaryFrameEncoder(gatewayID: 7, secret: secret).encode(template, sequence: 1)
    let frameDecoder = BinaryFrameDecoder { _ in secret }

    // What the harness itself allocates per sample: the floor under every "Malloc (total)" below.
    Benchmark("Harness baseline, no work") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(events) }
    }

    for (name, codes) in [
        ("element strings, bracketed", elementStrings), ("element strings, ]d2 + GS", unbracketed),
        ("Digital Link URIs", digitalLinks),
    ] {
        Benchmark("Decode \(name) x1000") { benchmark in
            for _ in benchmark.scaledIterations {
                for code in codes { blackHole(decoder.decode(code)) }
            }
        }
    }

    // The allocation-free path the line decoder takes: the canonical key read from the input bytes.
    for (name, codes) in [("bracketed", elementStrings), ("]d2 + GS", unbracketed)] {
        var buffers = codes.map { Array($0.utf8) }
        Benchmark("Decode element strings to key, \(name) x1000") { benchmark in
            for _ in benchmark.scaledIterations {
                for index in buffers.indices {
                    buffers[index].withUnsafeBufferPointer {
                        blackHole((try? decoder.elementStrings.decodeKey($0).get())?.key)
                    }
                }
            }
        }
    }

    // Each sample runs the closure afresh: the batch is warmed to its working size (as the ingest
    // pipeline's reused batches are) before the measurement starts.
    Benchmark("Decode line protocol x1000") { benchmark in
        var batch = ScanBatch()
        lineBytes.withUnsafeBufferPointer { lineDecoder.decode($0, into: &batch) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            batch.removeAll()
            lineBytes.withUnsafeBufferPointer { lineDecoder.decode($0, into: &batch) }
            blackHole(batch.count)
        }
    }

    // The gateway check of a one-event datagram (FrameKey's comment): the tag of one frame's bytes
    // with a key prepared beforehand, through swift-crypto and through FrameKey (OpenSSL states).
    let oneEvent = try! BinaryFrameEncoder(gatewayID: 7, secret: secret).encode(
        template,
        indices: 0..<1,
        sequence: 1
    )
    let signedBytes = Array(oneEvent[4..<(oneEvent.count - FrameKey.tagBytes)])
    let oneTag = Array(oneEvent.suffix(FrameKey.tagBytes))
    let preparedHMAC = HMAC<SHA256>(key: SymmetricKey(data: secret))
    let frameKey = FrameKey(secret: secret)
    Benchmark("Check a one-event frame's tag x1000, swift-crypto HMAC prepared") { benchmark in
        for _ in benchmark.scaledIterations {
            var valid = 0
            for _ in 0..<events {
                var mac = preparedHMAC
                mac.update(data: signedBytes)
                if mac.finalize() == oneTag { valid += 1 }
            }
            precondition(valid == events)
        }
    }
    Benchmark("Check a one-event frame's tag x1000, FrameKey") { benchmark in
        for _ in benchmark.scaledIterations {
            var valid = 0
            signedBytes.withUnsafeBytes { bytes in
                oneTag.withUnsafeBytes { tag in
                    for _ in 0..<events where frameKey.isValid(tag: tag, for: bytes) { valid += 1 }
                }
            }
            precondition(valid == events)
        }
    }

    Benchmark("Decode binary frame x1000") { benchmark in
        var batch = ScanBatch()
        _ = frame.withUnsafeBufferPointer { frameDecoder.decode($0, into: &batch) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            batch.removeAll()
            blackHole(frame.withUnsafeBufferPointer { frameDecoder.decode($0, into: &batch) })
        }
    }
}
