import CChannelGuardSupport
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

extension IngestService {
    struct Listeners {
        var channels: [any Channel]
        var addresses: Addresses
    }

    /// Binds the TCP listener and the UDP sockets.
    func openListeners(_ state: Running, group: MultiThreadedEventLoopGroup) async throws -> Listeners {
        let options = configuration.listeners
        let networks = options.openNetworks.compactMap(IPv4Network.init)
        let stats = stats
        let shardCount = state.shards.count
        var channels: [any Channel] = []
        var addresses = Addresses(udp: [], tcp: nil)
        var udpChannels: [any Channel] = []
        let router = { FrameRouter(shards: state.shards, index: state.index, reference: state.reference, stats: stats) }
        if let port = options.tcpPort {
            let congestion: @Sendable () -> Bool = { [self] in isCongested(state) }
            let server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(
                    .recvAllocator,
                    value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65_536, maximum: 1 << 20)
                )
                .childChannelInitializer { channel in
                    let open = channel.remoteAddress.map { IngestDatagramHandler.isOpen($0, networks) } ?? false
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(IngestStreamSplitter()))
                        try channel.pipeline.syncOperations.addHandler(
                            IngestConnectionHandler(
                                router: router(),
                                shards: shardCount,
                                linesAllowed: open,
                                stats: stats,
                                congestion: congestion
                            )
                        )
                    }
                }
                .bind(host: options.host, port: port).get()
            channels.append(server)
            addresses.tcp = server.localAddress
        }
        if var port = options.udpPort {
            for socket in 0..<max(1, options.udpSockets) {
                let count = options.udpVectorReads
                let channel = try await DatagramBootstrap(group: group)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    .channelOption(
                        ChannelOptions.Types.SocketOption(
                            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET),
                            name: NIOBSDSocket.Option(rawValue: SO_REUSEPORT)
                        ),
                        value: 1
                    )
                    // As root, SO_RCVBUFFORCE passes net.core.rmem_max (often 4 MiB); else SO_RCVBUF, capped.
                    .channelOption(
                        ChannelOptions.Types.SocketOption(
                            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET),
                            name: NIOBSDSocket.Option(rawValue: geteuid() == 0 ? SO_RCVBUFFORCE : SO_RCVBUF)
                        ),
                        value: SocketOptionValue(options.udpReceiveBufferBytes)
                    )
                    .channelOption(.datagramVectorReadMessageCount, value: count)
                    .channelOption(
                        .recvAllocator,
                        value: FixedSizeRecvByteBufferAllocator(capacity: count * options.maximumDatagramBytes)
                    )
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                IngestDatagramHandler(
                                    router: router(),
                                    openNetworks: networks,
                                    stats: stats,
                                    socket: min(socket, stats.socketDatagrams.count - 1)
                                )
                            )
                        }
                    }
                    .bind(host: options.host, port: port).get()
                channels.append(channel)
                udpChannels.append(channel)
                if let address = channel.localAddress {
                    addresses.udp.append(address)
                    port = address.port ?? port  // the other sockets share the port chosen first
                }
            }
        }
        if options.udpSockets > 1, let first = udpChannels.first {
            await spreadByGateway(first, sockets: udpChannels.count)
        }
        return Listeners(channels: channels, addresses: addresses)
    }

    /// Gives each datagram to socket (gateway id % sockets) of the port, not to the kernel's hash
    /// of addresses and ports: a few busy senders hashed onto one socket left the other idle (one
    /// event per datagram from four senders on two sockets: 137,000–230,000 datagrams/s from run
    /// to run). Each gateway's datagrams are also read in order by one socket. Without the program
    /// (it is Linux's, and may be refused) the kernel's hash stays.
    private func spreadByGateway(_ channel: any Channel, sockets: Int) async {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider else { return }
        let code = UnsafeMutablePointer<sock_filter>.allocate(capacity: Int(CG_REUSEPORT_PROGRAM_LENGTH))
        let program = UnsafeMutablePointer<sock_fprog>.allocate(capacity: 1)
        defer {
            code.deallocate()
            program.deallocate()
        }
        // The gateway id: bytes 8–11 of a frame (docs/protocol.md).
        cg_reuseport_program(8, UInt32(sockets), code, program)
        do {
            try await provider.unsafeSetSocketOption(
                level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET),
                name: NIOBSDSocket.Option(rawValue: SO_ATTACH_REUSEPORT_CBPF),
                value: SocketProgram(value: program.pointee)
            ).get()
        } catch {
            logger.warning(
                "UDP sockets keep the kernel's hash: the gateway program was refused",
                metadata: ["error": "\(error)"]
            )
        }
        #endif
    }
}

#if os(Linux)
/// A `sock_fprog` handed to the socket's event loop: the instructions it points at live until the
/// option is set.
private struct SocketProgram: @unchecked Sendable {
    var value: sock_fprog
}
#endif
