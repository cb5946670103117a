import ChannelGuardCodes
import NIOCore

/// One gateway's TCP connection: routes its frames (or, in open mode, lines) into the pipeline and
/// acknowledges frames once every shard holding their events has committed them.
///
/// Its state is touched only on the channel's event loop; commits reported by writer threads hop
/// there first (`@unchecked Sendable` rests on that).
final class IngestConnectionHandler: ChannelInboundHandler, AckSink, @unchecked Sendable {
    typealias InboundIn = IngestChunk
    typealias OutboundOut = ByteBuffer

    // Touched only on the connection's loop, in one handler call at a time: not checked at run
    // time (see ``PipelineShard``).
    @exclusivity(unchecked) private var router: FrameRouter
    @exclusivity(unchecked) private var tracker: AckTracker
    private let linesAllowed: Bool
    private let congestion: @Sendable () -> Bool
    private let stats: PipelineStats
    private var channel: (any Channel)?
    private var paused = false

    init(
        router: FrameRouter,
        shards: Int,
        linesAllowed: Bool,
        stats: PipelineStats,
        congestion: @escaping @Sendable () -> Bool
    ) {
        self.router = router
        tracker = AckTracker(shards: shards)
        self.linesAllowed = linesAllowed
        self.stats = stats
        self.congestion = congestion
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channel = context.channel
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .frame(let buffer):
            let outcome = buffer.withUnsafeReadableBytes { bytes in
                router.route(frame: bytes.bindMemory(to: UInt8.self), ack: self)
            }
            switch outcome {
            case .accepted(let gateway, let sequence, let shards, let rejected):
                if let due = tracker.accepted(
                    gateway: gateway,
                    sequence: sequence,
                    shards: shards,
                    rejectedRecords: rejected
                ) {
                    send(.durable(through: due.sequence, rejectedRecords: due.rejectedRecords), context: context)
                }
            case .rejected(let sequence, let rejection):
                send(.rejected(sequence, because: rejection.reason), context: context)
            }
        case .lines(let buffer):
            guard linesAllowed else {
                stats.rejected.add("unauthenticated")
                context.close(promise: nil)
                return
            }
            buffer.withUnsafeReadableBytes { bytes in _ = router.route(lines: bytes.bindMemory(to: UInt8.self)) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        if !paused, congestion() {
            // The database is behind: stop reading, so the gateway's own buffer holds the data.
            paused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            waitForRoom(context.channel)
        }
    }

    private func waitForRoom(_ channel: any Channel) {
        channel.eventLoop.scheduleTask(in: .milliseconds(10)) { [self] in
            if congestion() {
                waitForRoom(channel)
            } else {
                paused = false
                channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                channel.read()
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let rejection = error as? CodeRejection {
            // The stream cannot be resynchronised after a bad length: say why, then close.
            stats.rejected.add(rejection.reason.rawValue)
            send(.rejected(0, because: rejection.reason), context: context)
            context.flush()
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        channel = nil
        context.fireChannelInactive()
    }

    private func send(_ ack: FrameAcknowledgement, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: ack.encoded)), promise: nil)
    }

    // MARK: AckSink

    func committed(shard: Int, gateway: UInt32, through sequence: UInt64) {
        guard let channel else { return }
        channel.eventLoop.execute { [self] in
            guard let channel = self.channel,
                let due = tracker.committed(shard: shard, gateway: gateway, through: sequence)
            else { return }
            let ack = FrameAcknowledgement.durable(through: due.sequence, rejectedRecords: due.rejectedRecords)
            channel.writeAndFlush(channel.allocator.buffer(bytes: ack.encoded), promise: nil)
        }
    }

    func lost() {
        guard let channel else { return }
        channel.eventLoop.execute { [self] in self.channel?.close(promise: nil) }
    }
}
