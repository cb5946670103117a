import NIOCore

/// One UDP socket: each datagram is one binary frame, or (from an open network) protocol lines.
/// The frames of one read are gathered and handed to each shard once.
/// Nothing is acknowledged over UDP; frames still carry sequences, so a resent datagram is not
/// counted twice.
final class IngestDatagramHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    // Touched only on the socket's loop, in one handler call at a time: not checked at run time
    // (as in ``PipelineShard``, the checks cost a per-datagram share of the loop).
    @exclusivity(unchecked) private var router: FrameRouter
    private let openNetworks: [IPv4Network]
    private let stats: PipelineStats
    /// This socket's datagram counter, and what this read has added to it so far.
    private let socketDatagrams: Counter
    @exclusivity(unchecked) private var datagramsThisRead = 0

    init(router: FrameRouter, openNetworks: [IPv4Network], stats: PipelineStats, socket: Int) {
        self.router = router
        self.openNetworks = openNetworks
        self.stats = stats
        socketDatagrams = stats.socketDatagrams[socket]
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        datagramsThisRead += 1
        let buffer = envelope.data
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else {
            stats.rejected.add("empty")
            return
        }
        buffer.withUnsafeReadableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            if first == 0 {
                router.gather(frame: bytes)
            } else if Self.isOpen(envelope.remoteAddress, openNetworks) {
                router.route(lines: bytes)
            } else {
                stats.rejected.add("unauthenticated")
            }
        }
    }

    /// The end of a read (up to 64 datagrams): hand the gathered frames to the shards.
    func channelReadComplete(context: ChannelHandlerContext) {
        stats.datagrams.add(datagramsThisRead)
        socketDatagrams.add(datagramsThisRead)
        datagramsThisRead = 0
        router.handOver()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A UDP socket error (e.g. ICMP unreachable) concerns one datagram, never the socket.
        stats.rejected.add("socket_error")
    }

    static func isOpen(_ address: SocketAddress, _ networks: [IPv4Network]) -> Bool {
        guard !networks.isEmpty, let ip = address.ipAddress, let value = IPv4Network.parse(ip) else { return false }
        return networks.contains { $0.contains(value) }
    }
}
