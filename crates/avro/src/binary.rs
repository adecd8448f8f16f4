//! The binary encoding's primitives (specification.md, "Binary Encoding"): zig-zag variable-length
//! integers and the lengths before strings and bytes, read from a slice with every length checked
//! against what is left.

/// A cursor over bytes whose every read is checked.
#[derive(Clone, Copy, Debug)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

/// Why a read failed: the message; the cursor's position says where.
pub type ReadFault = &'static str;

/// The data end inside a number.
pub const ENDS_IN_NUMBER: ReadFault = "the data ends inside a number";
/// A length goes past the end of the data.
pub const RUNS_PAST_END: ReadFault = "a length runs past the end of the data";

/// Whether `fault` is the data running out (more data would have let the read go on).
pub fn is_truncation(fault: ReadFault) -> bool {
    fault == ENDS_IN_NUMBER || fault == RUNS_PAST_END
}

impl<'a> Cursor<'a> {
    /// Over `data`, from its start.
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    /// All the bytes, read or not.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// A `long` (or `int`): zig-zag, seven bits a byte, least significant first, at most 10 bytes.
    #[inline]
    pub fn long(&mut self) -> Result<i64, ReadFault> {
        let mut value: u64 = 0;
        for shift in (0..70).step_by(7) {
            let Some(&b) = self.data.get(self.pos) else {
                return Err(ENDS_IN_NUMBER);
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err("a number longer than 64 bits");
            }
            value |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok((value >> 1) as i64 ^ -((value & 1) as i64));
            }
        }
        Err("a number longer than 10 bytes")
    }

    /// An `int`: a `long` in the 32-bit range.
    pub fn int(&mut self) -> Result<i32, ReadFault> {
        i32::try_from(self.long()?).map_err(|_| "an int beyond 32 bits")
    }

    /// `n` bytes.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], ReadFault> {
        if n > self.remaining() {
            return Err(RUNS_PAST_END);
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// `bytes` or `string`: a non-negative `long` length, then that many bytes.
    #[inline]
    pub fn bytes(&mut self) -> Result<&'a [u8], ReadFault> {
        let len = self.long()?;
        let len = usize::try_from(len).map_err(|_| "a negative length")?;
        self.take(len)
    }
}

/// Appends a `long` (or `int`) in the binary encoding: zig-zag, then seven bits a byte.
#[inline]
pub fn write_long(out: &mut Vec<u8>, value: i64) {
    let mut n = ((value << 1) ^ (value >> 63)) as u64;
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// How many bytes [`write_long`] writes for `value`.
#[inline]
pub fn long_len(value: i64) -> usize {
    let n = ((value << 1) ^ (value >> 63)) as u64;
    // One byte per started group of seven significant bits.
    (64 - (n | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends `bytes` or `string`: the length, then the bytes.
#[inline]
pub fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_long(out, bytes.len() as i64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zig_zag_as_the_specification_tabulates() {
        // specification.md, Binary Encoding: 0 → 00, -1 → 01, 1 → 02, -2 → 03, 2 → 04, -64 → 7f, 64 → 80 01.
        for (bytes, value) in [
            (&[0x00][..], 0),
            (&[0x01], -1),
            (&[0x02], 1),
            (&[0x03], -2),
            (&[0x04], 2),
            (&[0x7f], -64),
            (&[0x80, 0x01], 64),
        ] {
            assert_eq!(Cursor::new(bytes).long(), Ok(value));
        }
        let max = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Cursor::new(&max).long(), Ok(i64::MAX));
        let too_long = [0xff; 11];
        assert!(Cursor::new(&too_long).long().is_err());
        assert!(Cursor::new(&[0x80]).long().is_err());
        assert!(Cursor::new(&[0x05, b'a']).bytes().is_err());
    }

    #[test]
    fn written_longs_read_back_and_their_length_is_known() {
        for value in [
            0,
            -1,
            1,
            -64,
            64,
            63,
            -65,
            8191,
            8192,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = Vec::new();
            write_long(&mut out, value);
            assert_eq!(out.len(), long_len(value), "{value}");
            let mut cursor = Cursor::new(&out);
            assert_eq!(cursor.long(), Ok(value));
            assert_eq!(cursor.remaining(), 0);
        }
        let mut out = Vec::new();
        write_long(&mut out, 64);
        assert_eq!(out, [0x80, 0x01]);
    }
}
