import ChannelGuardCodes
import ChannelGuardIngest
import ChannelGuardLoad
import ChannelGuardTestSupport
import Foundation
import Testing

/// Datagrams the network reordered and duplicated, over loopback into the daemon: each event
/// stored once, and the stale and duplicated frames counted on their own.
@Suite(.database, .serialized) struct ReorderedDatagramTests {
    @Test func reorderedDatagramsAreStoredOnceEachAndStaleOnesRefused() async throws {
        let connection = try TestDatabase.require().connect()
        try connection.execute(IngestEndToEndTests.setup)
        let gateway = IngestEndToEndTests.gateway
        // Sequences as a reordering, duplicating network delivers them: 2 before 1, 5 before 3 and
        // 4, three copies of 3, then a frame far ahead and one that has fallen below the window.
        let far = 6 + SequenceWindow.width
        let arrivals: [UInt64] = [2, 1, 5, 3, 3, 4, 3, far, 6]
        try await IngestHarness.run(url: try TestDatabase.require().url) { _, udp, service in
            let socket = try ClientSocket(host: "127.0.0.1", port: udp, transport: .udp)
            for sequence in arrivals {
                try socket.send(
                    try IngestOutageTests.frame(gateway: gateway, sequence: sequence, base: Int(sequence) * 1000)
                )
                // One datagram a read: the order is the one sent.
                try await Task.sleep(for: .milliseconds(5))
            }
            let expected = 6 * IngestOutageTests.eventsPerFrame
            #expect(try await IngestHarness.wait(seconds: 10) { service.stats.stored.count >= expected })
            #expect(try await IngestHarness.wait(seconds: 10) { service.stats.framesBelowWindow.count >= 1 })
            #expect(service.stats.stored.count == expected)
            #expect(service.stats.duplicateFrames.count >= 2)
            #expect(service.prometheusText().contains("channelguard_frames_below_window_total "))
        }
        var sequences: [UInt64] = []
        _ = try ScanLog.replay(connection) { batch, _, _ in sequences += batch.sequences }
        let frames = Set(sequences.map { $0 / 1000 })
        #expect(frames == [1, 2, 3, 4, 5, far])
        #expect(sequences.count == Set(sequences).count)
    }
}
