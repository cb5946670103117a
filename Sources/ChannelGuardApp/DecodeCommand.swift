import ArgumentParser
import ChannelGuardCodes

#if canImport(Glibc)
import Glibc
#endif

/// `channelguard decode`: one JSON object per input line, for checking a scanner's output.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode GS1 codes, one per line, into one JSON object per line.",
        discussion: """
            Reads the files named (or standard input) and prints, in order, for each line:
              {"ok":true,"kind":"sgtin","gtin":"…","serial":"…","ais":{"01":"…","21":"…"}}
              {"ok":true,"kind":"sscc","sscc":"…","ais":{…}}
              {"ok":false,"reason":"bad_check_digit","offset":17,"message":"…"}
            Element strings may be bracketed ((01)…(21)…) or unbracketed with GS (0x1D) separators, \
            with or without a symbology identifier (]C1, ]d2, ]Q3, ]e0, ]J1); GS1 Digital Link URIs; \
            EPC pure-identity URIs (urn:epc:id:sgtin:…, urn:epc:id:sscc:…). With --protocol line, \
            each line is a scan (STEP REGION TIME CODE [KEY=VALUE…]) and its fields join the object. \
            A trailing CR is not part of the line. Exit status 0 even when codes are rejected; 1 when a file cannot be read.
            """
    )

    /// What each input line holds.
    enum InputProtocol: String, ExpressibleByArgument, CaseIterable {
        /// One code per line.
        case code
        /// One line-protocol scan per line (docs/protocol.md).
        case line
    }

    @Option(name: .customLong("protocol"), help: "code: one code per line; line: line-protocol scans.")
    var inputProtocol: InputProtocol = .code

    @Argument(help: "Files to read; standard input when none.")
    var files: [String] = []

    func run() throws {
        let decoder = CodeDecoder()
        let lines = LineProtocolDecoder(codes: decoder)
        var output = OutputBuffer()
        var memo = CodeDecoder.Memo()
        let inputs = files.isEmpty ? ["-"] : files
        for path in inputs {
            let descriptor = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                output.flush()
                throw ValidationError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            defer { if descriptor != STDIN_FILENO { close(descriptor) } }
            var reader = LineReader(descriptor: descriptor)
            try reader.forEachLine { line in
                switch inputProtocol {
                case .code:
                    decoder.writeJSON(of: line, into: &output.json, memo: &memo)
                    output.endLine()
                case .line:
                    switch lines.decodeLine(line) {
                    case .success(let decoded): output.write(decoded.json)
                    case .failure(let rejection): output.write(rejection.json)
                    }
                }
            }
        }
        output.flush()
    }
}

/// Buffers stdout writes into large chunks; JSON is written straight into it.
struct OutputBuffer {
    var json = JSONWriter(capacity: 1 << 17)

    mutating func write(_ line: String) {
        json.bytes(line.utf8)
        endLine()
    }

    /// Ends the line written into ``json``.
    mutating func endLine() {
        json.write(atMost: 1) { $0.byte(UInt8(ascii: "\n")) }
        if json.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        json.withBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    break
                }
                offset += written
            }
        }
        json.removeAll()
    }
}
