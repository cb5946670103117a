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
            for _ in 0..<max(1, options.udpSockets) {
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
                                IngestDatagramHandler(router: router(), openNetworks: networks, stats: stats)
                            )
                        }
                    }
                    .bind(host: options.host, port: port).get()
                channels.append(channel)
                if let address = channel.localAddress {
                    addresses.udp.append(address)
                    port = address.port ?? port  // the other sockets share the port chosen first
                }
            }
        }
        return Listeners(channels: channels, addresses: addresses)
    }
}
