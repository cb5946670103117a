import CLibPQ

/// Where a binary COPY's rows go: an encoder whose bytes are sent to the server in ~1 MiB chunks.
public struct CopyInSink {
    private let connection: OpaquePointer
    /// The rows being written; call ``endRow()`` after each.
    public var encoder = PostgresBinaryCopyEncoder()
    /// Bytes buffered before they are handed to libpq.
    public var chunkBytes = 1 << 20

    init(connection: OpaquePointer) {
        self.connection = connection
    }

    /// Marks the end of a row, sending the buffer when it is large enough.
    public mutating func endRow() throws(StoreError) {
        if encoder.bytes.count >= chunkBytes { try send() }
    }

    mutating func send() throws(StoreError) {
        guard !encoder.bytes.isEmpty else { return }
        let status = encoder.bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                PQputCopyData(connection, chars.baseAddress, Int32(chars.count))
            }
        }
        guard status == 1 else {
            throw StoreError(.copyFailed, "sending COPY data failed: \(String(cString: PQerrorMessage(connection)))")
        }
        encoder.bytes.removeAll(keepingCapacity: true)
    }
}
