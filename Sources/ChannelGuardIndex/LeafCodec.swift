#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a leaf stores the rest of its key: one header byte, the key's remaining bytes, then the
/// 16-byte value (unaligned).
///
/// A leaf hangs as high in the tree as its key is unique (lazy expansion), so it keeps the bytes
/// below that point. Most serials are letters, digits, `-` and `_` (GS1 character set 64): such a
/// suffix is stored at 6 bits per character, and a closing terminator byte (0x00 for a serial, 0x01
/// for a serial-prefix range) moves into the header. A 13-character suffix then takes 10 bytes
/// instead of 14; at ten million random serials that is about 3 bytes per serial.
///
/// Header byte:
/// - bit 7 clear: raw; bits 0–6 are the byte count.
/// - bit 7 set: packed; bits 5–6 the terminator (0 none, 1 for 0x00, 2 for 0x01), bits 0–4 the
///   character count (at most 31).
enum LeafCodec {
    static let valueSize = 16

    /// CSET 64 character → 6-bit code, 0xFF for any other byte.
    nonisolated(unsafe) static let codes: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        table.initialize(repeating: 0xFF, count: 256)
        for (code, character) in alphabet.enumerated() { table[Int(character)] = UInt8(code) }
        return UnsafePointer(table)
    }()

    /// 6-bit code → CSET 64 character.
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    nonisolated(unsafe) static let characters: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
        table.initialize(from: alphabet, count: 64)
        return UnsafePointer(table)
    }()

    /// Bytes `count` packed characters take.
    @inline(__always)
    static func packedBytes(_ count: Int) -> Int { (count * 6 + 7) >> 3 }

    /// The header and stored length for a suffix, choosing packing when it applies.
    static func layout(_ suffix: UnsafeRawBufferPointer) -> (header: UInt8, stored: Int) {
        let count = suffix.count
        var terminator: UInt8 = 0
        var characters = count
        if count > 0, suffix[count - 1] <= 1 {
            terminator = suffix[count - 1] + 1
            characters = count - 1
        }
        if characters <= 31 && (terminator != 0 || characters >= 4) {
            var valid = true
            for index in 0..<characters where codes[Int(suffix[index])] == 0xFF {
                valid = false
                break
            }
            if valid {
                return (0x80 | terminator << 5 | UInt8(characters), packedBytes(characters))
            }
        }
        return (UInt8(count), count)
    }

    /// The size of a leaf holding `suffix`.
    static func leafSize(_ suffix: UnsafeRawBufferPointer) -> Int { 1 + layout(suffix).stored + valueSize }

    /// The stored length of a leaf from its header.
    @inline(__always)
    static func storedBytes(_ header: UInt8) -> Int {
        header & 0x80 == 0 ? Int(header) : packedBytes(Int(header & 0x1F))
    }

    /// The number of key bytes a leaf holds.
    @inline(__always)
    static func keyBytes(_ header: UInt8) -> Int {
        header & 0x80 == 0 ? Int(header) : Int(header & 0x1F) + (header & 0x60 == 0 ? 0 : 1)
    }

    /// Writes a leaf's header and suffix at `leaf`; returns where the value goes.
    static func write(_ suffix: UnsafeRawBufferPointer, at leaf: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        let (header, stored) = layout(suffix)
        leaf.storeBytes(of: header, as: UInt8.self)
        if header & 0x80 == 0 {
            if stored > 0 { (leaf + 1).copyMemory(from: suffix.baseAddress!, byteCount: stored) }
        } else {
            let characters = Int(header & 0x1F)
            var accumulator: UInt64 = 0
            var bits = 0
            var out = leaf + 1
            for index in 0..<characters {
                accumulator |= UInt64(codes[Int(suffix[index])]) << UInt64(bits)
                bits += 6
                while bits >= 8 {
                    out.storeBytes(of: UInt8(truncatingIfNeeded: accumulator), as: UInt8.self)
                    out += 1
                    accumulator >>= 8
                    bits -= 8
                }
            }
            if bits > 0 { out.storeBytes(of: UInt8(truncatingIfNeeded: accumulator), as: UInt8.self) }
        }
        return leaf + 1 + stored
    }

    /// Whether the leaf at `leaf` holds exactly `key[0..<count]`.
    @inline(__always)
    static func matches(_ leaf: UnsafeRawPointer, _ key: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        let header = leaf.load(as: UInt8.self)
        if header & 0x80 == 0 {
            return Int(header) == count && (count == 0 || memcmp(leaf + 1, key, count) == 0)
        }
        let characters = Int(header & 0x1F)
        let terminator = (header >> 5) & 3
        if terminator != 0 {
            guard count == characters + 1, key[characters] == terminator - 1 else { return false }
        } else {
            guard count == characters else { return false }
        }
        return packedEquals(leaf + 1, key, characters)
    }

    /// Whether `characters` raw bytes at `key` pack to the bytes at `stored`.
    @inline(__always)
    static func packedEquals(_ stored: UnsafeRawPointer, _ key: UnsafePointer<UInt8>, _ characters: Int) -> Bool {
        let codes = Self.codes
        var index = 0
        var out = stored
        while characters - index >= 4 {
            let a = UInt32(codes[Int(key[index])])
            let b = UInt32(codes[Int(key[index + 1])])
            let c = UInt32(codes[Int(key[index + 2])])
            let d = UInt32(codes[Int(key[index + 3])])
            if (a | b | c | d) & 0xC0 != 0 { return false }
            let packed = a | b << 6 | c << 12 | d << 18
            let have =
                UInt32(out.load(as: UInt8.self)) | UInt32(out.load(fromByteOffset: 1, as: UInt8.self)) << 8
                | UInt32(out.load(fromByteOffset: 2, as: UInt8.self)) << 16
            if packed != have { return false }
            index += 4
            out += 3
        }
        let rest = characters - index
        if rest == 0 { return true }
        var packed: UInt32 = 0
        for offset in 0..<rest {
            let code = UInt32(codes[Int(key[index + offset])])
            if code & 0xC0 != 0 { return false }
            packed |= code << UInt32(6 * offset)
        }
        var have: UInt32 = 0
        for offset in 0..<packedBytes(rest) {
            have |= UInt32(out.load(fromByteOffset: offset, as: UInt8.self)) << UInt32(8 * offset)
        }
        return packed == have
    }

    /// Writes the leaf's key bytes (unpacked, terminator included) to `into`; returns how many.
    static func decode(_ leaf: UnsafeRawPointer, into: UnsafeMutablePointer<UInt8>) -> Int {
        let alphabet = Self.characters
        let header = leaf.load(as: UInt8.self)
        if header & 0x80 == 0 {
            let count = Int(header)
            if count > 0 { UnsafeMutableRawPointer(into).copyMemory(from: leaf + 1, byteCount: count) }
            return count
        }
        let count = Int(header & 0x1F)
        var accumulator: UInt64 = 0
        var bits = 0
        var input = leaf + 1
        for index in 0..<count {
            if bits < 6 {
                accumulator |= UInt64(input.load(as: UInt8.self)) << UInt64(bits)
                input += 1
                bits += 8
            }
            into[index] = alphabet[Int(accumulator & 0x3F)]
            accumulator >>= 6
            bits -= 6
        }
        let terminator = (header >> 5) & 3
        if terminator != 0 {
            into[count] = terminator - 1
            return count + 1
        }
        return count
    }

    /// The value stored in a leaf.
    @inline(__always)
    static func valuePointer(_ leaf: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        leaf + 1 + storedBytes(leaf.load(as: UInt8.self))
    }
}
