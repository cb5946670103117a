import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `channelguard-fuzz TARGET [libFuzzer arguments…]`.
///
/// Built with `-sanitize=fuzzer` (scripts/fuzz.sh), it hands the target to libFuzzer's
/// `LLVMFuzzerRunDriver`. Built normally, libFuzzer is absent: it replays the files and folders
/// given (the seed corpus) through the target, so the corpus is a regression test too.
@main
struct FuzzMain {
    typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    typealias Driver =
        @convention(c) (
            UnsafeMutablePointer<Int32>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
            Callback
        ) -> Int32

    nonisolated(unsafe) static var target: FuzzTarget = .code

    static func main() {
        var arguments = CommandLine.arguments
        guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            FileHandle.standardError.write(
                Data("usage: channelguard-fuzz \(names) [libFuzzer options] [corpus…]\n".utf8)
            )
            exit(2)
        }
        Self.target = target
        arguments.remove(at: 1)
        // `channelguard-fuzz snapshot --write-seeds DIR`: write the made seed inputs.
        if arguments.count == 3, arguments[1] == "--write-seeds" {
            do {
                for (number, seed) in try FuzzTarget.seeds(target).enumerated() {
                    try Data(seed).write(to: URL(fileURLWithPath: arguments[2] + "/seed-\(number)"))
                }
                exit(0)
            } catch {
                FileHandle.standardError.write(Data("cannot write seeds: \(error)\n".utf8))
                exit(1)
            }
        }
        let callback: Callback = { data, size in
            FuzzMain.target.run(UnsafeBufferPointer(start: data, count: size))
            return 0
        }
        if let symbol = dlsym(nil, "LLVMFuzzerRunDriver") {
            let driver = unsafeBitCast(symbol, to: Driver.self)
            var argc = Int32(arguments.count)
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = UnsafeMutablePointer.allocate(
                capacity: arguments.count + 1
            )
            for (index, argument) in arguments.enumerated() { argv![index] = strdup(argument) }
            argv![arguments.count] = nil
            exit(driver(&argc, &argv, callback))
        }
        // Replay mode: every file named, or every file in each folder named.
        var inputs = 0
        for path in arguments.dropFirst() where !path.hasPrefix("-") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            let files =
                isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                data.withUnsafeBytes { target.run($0.bindMemory(to: UInt8.self)) }
                inputs += 1
            }
        }
        print("replayed \(inputs) inputs through \(target.rawValue) (built without libFuzzer)")
    }
}
