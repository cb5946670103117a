/// JSON text written into one growing buffer (RFC 8259). A piece of JSON is written through a
/// ``Cursor`` into space reserved for it up front (``write(atMost:_:)``), so writing a value is a
/// loop over its bytes — no per-piece capacity or uniqueness check, no intermediate `String`.
/// What `channelguard decode`, the API, the live stream and the webhooks write their JSON with.
///
/// Writing a code's JSON a character at a time (each `Unicode.Scalar` appended to a `String`) was
/// three quarters of `channelguard decode`'s time; appending each piece to an array, still half
/// (docs/performance.md).
public struct JSONWriter: Sendable {
    /// The text is `storage[0..<count]`; the rest is room already zeroed.
    private var storage: [UInt8]
    public private(set) var count = 0

    public init(capacity: Int = 256) {
        storage = [UInt8](repeating: 0, count: max(16, capacity))
    }

    /// Writes at most `maximum` bytes through `body`'s cursor (the caller bounds what it writes:
    /// an escaped byte takes at most 6).
    @inlinable
    public mutating func write(atMost maximum: Int, _ body: (inout Cursor) -> Void) {
        reserve(maximum)
        withStorage { base, count in
            var cursor = Cursor(base + count)
            body(&cursor)
            count = cursor.pointer - base
        }
    }

    @usableFromInline
    mutating func reserve(_ more: Int) {
        guard storage.count - count < more else { return }
        storage.append(contentsOf: repeatElement(0, count: max(more, storage.count)))
    }

    @usableFromInline
    mutating func withStorage(_ body: (UnsafeMutablePointer<UInt8>, inout Int) -> Void) {
        var written = count
        storage.withUnsafeMutableBufferPointer { body($0.baseAddress!, &written) }
        count = written
    }

    /// Appends bytes that are JSON already (punctuation, keys).
    public mutating func raw(_ text: StaticString) { write(atMost: text.utf8CodeUnitCount) { $0.raw(text) } }

    /// Appends `text` as a quoted, escaped JSON string.
    public mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in write(atMost: 2 + 6 * utf8.count) { $0.string(utf8) } }
    }

    /// Appends UTF-8 bytes as a quoted, escaped JSON string.
    public mutating func string(_ utf8: UnsafeBufferPointer<UInt8>) {
        write(atMost: 2 + 6 * utf8.count) { $0.string(utf8) }
    }

    /// Appends an integer.
    public mutating func number(_ value: Int) {
        let digits = String(value)
        write(atMost: digits.utf8.count) { cursor in for byte in digits.utf8 { cursor.byte(byte) } }
    }

    /// Appends raw bytes (a line break, text already JSON).
    public mutating func bytes(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        write(atMost: array.count) { cursor in array.withUnsafeBufferPointer { cursor.copy($0) } }
    }

    /// Calls `body` with the text written.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<count])) }
    }

    /// Forgets the text, keeping the room.
    public mutating func removeAll() { count = 0 }

    /// The text written.
    public var text: String { withBytes { String(decoding: $0, as: UTF8.self) } }

    /// Where the next byte goes, within space reserved by ``JSONWriter/write(atMost:_:)``.
    public struct Cursor {
        @usableFromInline var pointer: UnsafeMutablePointer<UInt8>

        @usableFromInline
        init(_ pointer: UnsafeMutablePointer<UInt8>) { self.pointer = pointer }

        @inlinable @inline(__always)
        public mutating func byte(_ byte: UInt8) {
            pointer.pointee = byte
            pointer += 1
        }

        @inlinable @inline(__always)
        public mutating func copy(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            pointer.update(from: base, count: bytes.count)
            pointer += bytes.count
        }

        @inlinable @inline(__always)
        public mutating func raw(_ text: StaticString) {
            text.withUTF8Buffer { copy($0) }
        }

        /// A quoted string: `"`, `\` and control characters escaped, every other byte as it is.
        @inlinable
        public mutating func string(_ utf8: UnsafeBufferPointer<UInt8>) {
            byte(0x22)
            for value in utf8 {
                if value >= 0x20 && value != 0x22 && value != 0x5C {
                    byte(value)
                } else {
                    escape(value)
                }
            }
            byte(0x22)
        }

        @usableFromInline
        mutating func escape(_ value: UInt8) {
            byte(0x5C)
            switch value {
            case 0x22, 0x5C: byte(value)
            case 0x0A: byte(UInt8(ascii: "n"))
            case 0x0D: byte(UInt8(ascii: "r"))
            case 0x09: byte(UInt8(ascii: "t"))
            default:
                let hex = value & 0xF
                byte(UInt8(ascii: "u"))
                byte(0x30)
                byte(0x30)
                byte(0x30 + (value >> 4))
                byte(hex < 10 ? 0x30 + hex : 0x57 + hex)
            }
        }
    }
}
