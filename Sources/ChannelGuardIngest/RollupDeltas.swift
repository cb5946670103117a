import ChannelGuardCodes

/// A batch's rollup counts in the compact form stored beside it (`scan_batches.rollup`, zstd):
/// 34 bytes a cell, little-endian — hour (Unix seconds, 8), distributor (8), city (4), GTIN (8),
/// step (1, wire code), in territory (1), scans (4).
public enum RollupDeltas {
    static let cellBytes = 34

    public static func encode(_ cells: [RollupKey: Int64]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(cells.count * cellBytes)
        for (key, scans) in cells {
            out.appendLittleEndian(key.hour)
            out.appendLittleEndian(key.distributor)
            out.appendLittleEndian(key.city)
            out.appendLittleEndian(key.gtin)
            out.append(BinaryFrame.stepCode(key.step))
            out.append(key.inTerritory ? 1 : 0)
            out.appendLittleEndian(UInt32(clamping: scans))
        }
        return out
    }

    /// Adds the cells of an encoded delta to `into`; `false` when the bytes are not deltas.
    public static func merge(_ bytes: [UInt8], into cells: inout [RollupKey: Int64]) -> Bool {
        guard bytes.count % cellBytes == 0 else { return false }
        return bytes.withUnsafeBytes { raw in
            for start in stride(from: 0, to: raw.count, by: cellBytes) {
                func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
                    T(littleEndian: raw.loadUnaligned(fromByteOffset: start + offset, as: T.self))
                }
                guard let step = BinaryFrame.step(code: raw[start + 28]) else { return false }
                let key = RollupKey(
                    hour: load(0, Int64.self),
                    distributor: load(8, Int64.self),
                    city: load(16, UInt32.self),
                    gtin: load(20, UInt64.self),
                    step: step,
                    inTerritory: raw[start + 29] != 0
                )
                cells[key, default: 0] += Int64(load(30, UInt32.self))
            }
            return true
        }
    }
}
