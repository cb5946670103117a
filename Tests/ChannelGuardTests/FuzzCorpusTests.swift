import ChannelGuardTestSupport
import Foundation
import Testing

/// The fuzzing seed corpus, replayed through the harness as built for tests (without libFuzzer):
/// every input must run to the end, and the harness's own round-trip checks must hold.
@Suite struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")

    @Test(arguments: ["code", "line", "frame", "records", "snapshot", "logbatch"])
    func seedCorpusReplays(target: String) async throws {
        let directory = Self.corpus.appendingPathComponent(target).path
        let inputs = try FileManager.default.contentsOfDirectory(atPath: directory).count
        try #require(inputs > 0)
        let replay = try ChildProcess(try ChildProcess.executable(named: "channelguard-fuzz"), [target, directory])
        #expect(try await replay.waitForExit(timeout: .seconds(60)) == 0, "\(replay.output)")
        #expect(replay.output.contains("replayed \(inputs) inputs through \(target)"))
    }
}
