import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A local webhook receiver for the tests: answers each path as told (a status and a body, or a
/// failure count before success) and keeps every request it received.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var path: String
        var query: String
        var headers: [String: String]
        var body: String
    }

    private let received = Mutex<[Received]>([])
    private let failures = Mutex<[String: Int]>([:])

    /// `path` answers 500 the first `count` times.
    func fail(_ path: String, times count: Int) { failures.withLock { $0[path] = count } }

    func requests(_ path: String) -> [Received] { received.withLock { $0.filter { $0.path == path } } }

    /// Runs the receiver for `body`, with its port.
    func run(_ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.post("**") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let path = request.uri.path
            self.received.withLock {
                $0.append(
                    .init(path: path, query: request.uri.query ?? "", headers: headers, body: String(buffer: buffer))
                )
            }
            let failing = self.failures.withLock { failures -> Bool in
                guard let left = failures[path], left != 0 else { return false }
                failures[path] = left - 1
                return true
            }
            if failing { return Response(status: .internalServerError) }
            let answer =
                switch path {
                case "/wecom", "/dingtalk": #"{"errcode":0,"errmsg":"ok"}"#
                case "/feishu": #"{"code":0,"msg":"success"}"#
                case "/robot-refuses": #"{"errcode":310000,"errmsg":"sign not match"}"#
                default: "{}"
                }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .error
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) },
            logger: logger
        )
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            do {
                try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
