import ChannelGuardCodes
import ChannelGuardTestSupport
import Foundation
import Testing

@Suite struct DecodeCommandTests {
    @Test func printsOneJSONObjectPerLineInOrder() async throws {
        let input = TestCluster.root.appendingPathComponent("decode-\(UUID().uuidString.prefix(8)).txt")
        try FileManager.default.createDirectory(at: TestCluster.root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: input) }
        var bytes = Array("(01)06901234567892(21)A1B2\r\n]d2010690123456789221X/1".utf8)
        bytes += [0x1D] + Array("10LOT\n(01)06901234567893(21)A1B2\n\n(00)106141411234567897\n".utf8)
        bytes += Array("(01)06901234567892(21)A".utf8) + [0xFF, 0x0A]  // a byte that is not UTF-8
        bytes += Array("(01)06901234567892(21)\"q\"".utf8)  // last line without LF
        try Data(bytes).write(to: input)

        let decode = try ChildProcess(try ChildProcess.channelguardExecutable(), ["decode", input.path])
        #expect(try await decode.waitForExit(timeout: .seconds(30)) == 0)
        let lines = decode.output.split(separator: "\n").map(String.init)
        try #require(lines.count == 7, "\(decode.output)")
        let objects = try lines.map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }

        #expect(objects[0]["kind"] as? String == "sgtin" && objects[0]["serial"] as? String == "A1B2")
        #expect((objects[1]["ais"] as? [String: String]) == ["01": "06901234567892", "21": "X/1", "10": "LOT"])
        #expect(objects[2]["ok"] as? Bool == false && objects[2]["reason"] as? String == "bad_check_digit")
        #expect(objects[2]["offset"] as? Int == 17)
        #expect(objects[3]["reason"] as? String == "empty")
        #expect(objects[4]["kind"] as? String == "sscc" && objects[4]["sscc"] as? String == "106141411234567897")
        #expect(objects[5]["reason"] as? String == "bad_charset" && objects[5]["offset"] as? Int == 23)
        #expect(objects[6]["serial"] as? String == "\"q\"")
    }

    @Test func anUnreadableFileIsAnError() async throws {
        let decode = try ChildProcess(try ChildProcess.channelguardExecutable(), ["decode", "/nonexistent/codes.txt"])
        #expect(try await decode.waitForExit(timeout: .seconds(30)) != 0)
        #expect(decode.output.contains("cannot read /nonexistent/codes.txt"))
    }

    @Test func jsonQuotingEscapesWhatItMust() {
        #expect(JSONText.quote("a\"b\\c\u{1D}\n") == #""a\"b\\c\u001d\n""#)
        #expect(JSONText.quote("南山") == "\"南山\"")
    }
}
