import ChannelGuardApp

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

@main
struct ChannelGuardMain {
    static func main() async {
        // Line-buffered stdout, so the lines serve prints reach a pipe as they are written.
        setvbuf(stdout, nil, _IOLBF, 0)
        await ChannelGuardCommand.main()
    }
}
