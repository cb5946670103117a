import ChannelGuardCodes

/// A batch's rollup counts in the compact form stored beside it (`scan_batches.rollup`, zstd):
/// 34 bytes a cell, little-endian — hour (Unix seconds, 8), distributor (8), city (4), GTIN (8),
/// step (1, wire code), in territory (1), scans (4).
public enum RollupDeltas {
    static let cellBytes = 34

    public static func encode(_ cells: RollupCells) -> [UInt8] {
        // Stored in place into a buffer of the final size: appending field by field (a capacity
        // check per field) was 6.7 % of the daemon's time at 1 M events/s, with about one cell per
        // event under the load generator's workload.
        [UInt8](unsafeUninitializedCapacity: cells.count * cellBytes) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var offset = 0
            for (key, scans) in cells {
                raw.storeBytes(of: key.hour.littleEndian, toByteOffset: offset, as: Int64.self)
                raw.storeBytes(of: key.distributor.littleEndian, toByteOffset: offset + 8, as: Int64.self)
                raw.storeBytes(of: key.city.littleEndian, toByteOffset: offset + 16, as: UInt32.self)
                raw.storeBytes(of: key.gtin.littleEndian, toByteOffset: offset + 20, as: UInt64.self)
                raw[offset + 28] = BinaryFrame.stepCode(key.step)
                raw[offset + 29] = key.inTerritory ? 1 : 0
                raw.storeBytes(of: UInt32(clamping: scans).littleEndian, toByteOffset: offset + 30, as: UInt32.self)
                offset += cellBytes
            }
            count = offset
        }
    }

    /// Adds the cells of an encoded delta to `into`; `false`, with nothing added, when the bytes
    /// are not deltas.
    ///
    /// Cells are decoded a few hundred at a time and added in prefetched groups
    /// (``RollupCells/add(_:amounts:)``): a fold merges every cell of thousands of batches into a
    /// table of about 100,000 cells, and one at a time each waited for its slot's cache miss.
    public static func merge(_ bytes: [UInt8], into cells: inout RollupCells) -> Bool {
        guard bytes.count % cellBytes == 0 else { return false }
        return bytes.withUnsafeBytes { raw in
            // Checked whole first, so that a bad delta adds nothing rather than its first cells.
            for start in stride(from: 0, to: raw.count, by: cellBytes)
            where BinaryFrame.step(code: raw[start + 28]) == nil {
                return false
            }
            let chunk = 256
            withUnsafeTemporaryAllocation(of: RollupKey.self, capacity: chunk) { keys in
                withUnsafeTemporaryAllocation(of: Int64.self, capacity: chunk) { amounts in
                    var pending = 0
                    for start in stride(from: 0, to: raw.count, by: cellBytes) {
                        func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
                            T(littleEndian: raw.loadUnaligned(fromByteOffset: start + offset, as: T.self))
                        }
                        (keys.baseAddress! + pending).initialize(
                            to: RollupKey(
                                hour: load(0, Int64.self),
                                distributor: load(8, Int64.self),
                                city: load(16, UInt32.self),
                                gtin: load(20, UInt64.self),
                                // Checked above: never nil here.
                                step: BinaryFrame.step(code: raw[start + 28]) ?? .inspect,
                                inTerritory: raw[start + 29] != 0
                            )
                        )
                        amounts[pending] = Int64(load(30, UInt32.self))
                        pending += 1
                        if pending == chunk {
                            cells.add(UnsafeBufferPointer(keys), amounts: UnsafeBufferPointer(amounts))
                            pending = 0
                        }
                    }
                    cells.add(
                        UnsafeBufferPointer(rebasing: keys[..<pending]),
                        amounts: UnsafeBufferPointer(rebasing: amounts[..<pending])
                    )
                }
            }
            return true
        }
    }
}
