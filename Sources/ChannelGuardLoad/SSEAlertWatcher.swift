import AsyncHTTPClient
import ChannelGuardIngest
import Dispatch
import Foundation
import NIOCore
import Synchronization

/// Reads the live alert stream (`GET /v1/alerts/stream`, Server-Sent Events) during a load run,
/// noting when each serial's alert arrived (monotonic nanoseconds): scan sent → alert on the
/// stream, as a compliance officer's screen would see it.
final class SSEAlertWatcher: Sendable {
    let url: String
    let token: String
    private let received = Mutex<[String: UInt64]>([:])
    private let reader = Mutex<Task<Void, Never>?>(nil)
    private let failure = Mutex<String?>(nil)

    init(url: String, token: String) {
        self.url = url
        self.token = token
    }

    /// Connects and waits (up to 10 s) until the stream is open.
    func start() throws {
        let connected = DispatchSemaphore(value: 0)
        let task = Task { [self] in
            do {
                var request = HTTPClientRequest(url: url)
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                let response = try await HTTPClient.shared.execute(request, timeout: .hours(24))
                guard response.status == .ok else {
                    failure.withLock { $0 = "the alert stream answered \(response.status.code)" }
                    connected.signal()
                    return
                }
                connected.signal()
                var pending: [UInt8] = []
                for try await buffer in response.body {
                    let now = Monotonic.now()
                    pending.append(contentsOf: buffer.readableBytesView)
                    while let newline = pending.firstIndex(of: 10) {
                        let line = pending[..<newline]
                        pending.removeFirst(newline + 1)
                        guard line.starts(with: Array("data: ".utf8)),
                            let key = AlertWatcher.key(Substring(decoding: line.dropFirst(6), as: UTF8.self))
                        else {
                            continue
                        }
                        received.withLock { if $0[key] == nil { $0[key] = now } }
                    }
                }
            } catch {
                if !Task.isCancelled { failure.withLock { $0 = "the alert stream failed: \(error)" } }
                connected.signal()
            }
        }
        reader.withLock { $0 = task }
        guard connected.wait(timeout: .now() + .seconds(10)) == .success else {
            task.cancel()
            throw SendError("the alert stream at \(url) did not answer within 10 s")
        }
        if let failure = failure.withLock({ $0 }) { throw SendError(failure) }
    }

    /// Stops reading; returns `gtin/serial` → when its alert arrived on the stream.
    func stop() -> [String: UInt64] {
        reader.withLock { $0?.cancel() }
        return received.withLock { $0 }
    }
}
