//! The Java Object Serialization Stream (Java SE "Object Serialization Specification",
//! chapter 6, "Object Serialization Stream Protocol"), read only as far as one
//! `java.util.HashMap<String, String>` needs — the shape of FreeOTP 2's backup file
//! (`ObjectOutputStream.writeObject(SharedPreferences.getAll())`):
//!
//! ```text
//! AC ED 00 05                        magic, version
//! 73 72 <utf "java.util.HashMap"> <u64 serialVersionUID> <flags> <u16 n> fields…
//!    78 (end of class annotation) 70 (no superclass)
//! <the fields' values: loadFactor (float), threshold (int)>
//! 77 <len> <int capacity> <int size>  block data written by HashMap.writeObject
//! (74 <u16 len> bytes | 7C <u64 len> bytes | 71 <u32 handle>)…   key, value, key, value…
//! 78                                 end of the object's annotation
//! ```
//!
//! Strings are Java's modified UTF-8 (NUL as `C0 80`, characters outside the BMP as two
//! three-byte surrogates). Everything else a stream may hold (other classes, arrays,
//! object-typed fields, resets) is refused: a backup never contains it, and a reader that
//! does less has less to get wrong. Every length is checked against the bytes left before
//! anything is copied, and the number of strings is bounded.

use super::{ImportError, ImportFormat};

const MAGIC: [u8; 4] = [0xAC, 0xED, 0x00, 0x05];
const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
const TC_LONGSTRING: u8 = 0x7C;
/// The first handle a stream assigns (`baseWireHandle`).
const BASE_HANDLE: u32 = 0x7E_0000;
/// Most entries read from one map: far more than a backup of every account holds (three
/// per account).
pub const MAX_MAP_ENTRIES: usize = 100_000;

/// Whether `data` starts like a Java serialization stream.
pub fn is_stream(data: &[u8]) -> bool {
    data.starts_with(&MAGIC)
}

/// The string pairs of a serialised `HashMap<String, String>`, in stream order.
pub fn read_string_map(
    format: ImportFormat,
    data: &[u8],
) -> Result<Vec<(String, String)>, ImportError> {
    let mut stream = Stream {
        data,
        at: 0,
        format,
        handles: Vec::new(),
    };
    stream.header()?;
    stream.hash_map()
}

/// Something the stream assigned a handle to: only strings are kept (a reference to
/// anything else is refused).
enum Handle {
    String(String),
    Other,
}

struct Stream<'a> {
    data: &'a [u8],
    at: usize,
    format: ImportFormat,
    handles: Vec<Handle>,
}

impl<'a> Stream<'a> {
    fn error(&self, reason: &str) -> ImportError {
        ImportError::invalid(
            self.format,
            format!("Java serialization stream, byte {}: {reason}", self.at),
        )
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], ImportError> {
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.data.len())
            .ok_or_else(|| self.error("the file ends early"))?;
        let bytes = &self.data[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, ImportError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, ImportError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, ImportError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, ImportError> {
        let b = self.take(8)?;
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(b);
        Ok(u64::from_be_bytes(bytes))
    }

    fn utf(&mut self, len: usize) -> Result<String, ImportError> {
        let bytes = self.take(len)?;
        modified_utf8(bytes).ok_or_else(|| self.error("a string is not modified UTF-8"))
    }

    fn new_handle(&mut self, handle: Handle) -> Result<(), ImportError> {
        if self.handles.len() > 2 * MAX_MAP_ENTRIES + 2 {
            return Err(self.error("more objects than a backup holds"));
        }
        self.handles.push(handle);
        Ok(())
    }

    fn header(&mut self) -> Result<(), ImportError> {
        if self.take(4)? != MAGIC {
            return Err(self.error("not a Java serialization stream (version 5)"));
        }
        Ok(())
    }

    /// `TC_OBJECT classDesc classdata`, for a HashMap.
    fn hash_map(&mut self) -> Result<Vec<(String, String)>, ImportError> {
        if self.byte()? != TC_OBJECT || self.byte()? != TC_CLASSDESC {
            return Err(self.error("the stream does not start with an object"));
        }
        let field_bytes = self.class_desc()?;
        self.new_handle(Handle::Other)?;
        // The primitive fields (loadFactor, threshold): not needed to read the entries.
        self.take(field_bytes)?;
        let size = self.map_header()?;
        let mut strings = Vec::new();
        loop {
            if self.data.get(self.at) == Some(&TC_ENDBLOCKDATA) {
                self.at += 1;
                break;
            }
            if strings.len() >= 2 * MAX_MAP_ENTRIES {
                return Err(self.error("more entries than a backup holds"));
            }
            strings.push(self.string_object()?);
        }
        if strings.len() % 2 != 0 || strings.len() / 2 != size {
            return Err(self.error("the map's entries do not match its size"));
        }
        let mut pairs = Vec::with_capacity(size);
        let mut strings = strings.into_iter();
        while let (Some(key), Some(value)) = (strings.next(), strings.next()) {
            pairs.push((key, value));
        }
        Ok(pairs)
    }

    /// The class descriptor of `java.util.HashMap` (without its `TC_CLASSDESC`): checks the
    /// name and that every field is primitive, and returns the bytes its values take.
    fn class_desc(&mut self) -> Result<usize, ImportError> {
        let name_len = usize::from(self.u16()?);
        let name = self.utf(name_len)?;
        if name != "java.util.HashMap" {
            return Err(self.error("the object is not a java.util.HashMap"));
        }
        self.u64()?; // serialVersionUID: any release's HashMap writes the same layout
        self.new_handle(Handle::Other)?;
        let flags = self.byte()?;
        const SC_WRITE_METHOD: u8 = 0x01;
        const SC_SERIALIZABLE: u8 = 0x02;
        if flags & (SC_WRITE_METHOD | SC_SERIALIZABLE) != SC_WRITE_METHOD | SC_SERIALIZABLE {
            return Err(self.error("the HashMap class is not serialised by its writeObject"));
        }
        let fields = self.u16()?;
        let mut field_bytes = 0usize;
        for _ in 0..fields {
            let size = match self.byte()? {
                b'B' | b'Z' => 1,
                b'C' | b'S' => 2,
                b'I' | b'F' => 4,
                b'J' | b'D' => 8,
                _ => return Err(self.error("the HashMap has a field that is not primitive")),
            };
            let len = usize::from(self.u16()?);
            self.take(len)?;
            field_bytes += size;
        }
        if self.byte()? != TC_ENDBLOCKDATA || self.byte()? != TC_NULL {
            return Err(self.error("unexpected class annotation or superclass"));
        }
        Ok(field_bytes)
    }

    /// `TC_BLOCKDATA` with the capacity and the number of entries.
    fn map_header(&mut self) -> Result<usize, ImportError> {
        if self.byte()? != TC_BLOCKDATA || self.byte()? != 8 {
            return Err(self.error("the map's capacity and size are missing"));
        }
        self.u32()?; // capacity
        let size = self.u32()?;
        usize::try_from(size)
            .ok()
            .filter(|size| *size <= MAX_MAP_ENTRIES)
            .ok_or_else(|| self.error("more entries than a backup holds"))
    }

    /// A string, new (`TC_STRING`, `TC_LONGSTRING`) or seen before (`TC_REFERENCE`).
    fn string_object(&mut self) -> Result<String, ImportError> {
        let string = match self.byte()? {
            TC_STRING => {
                let len = usize::from(self.u16()?);
                self.utf(len)?
            }
            TC_LONGSTRING => {
                let len = self.u64()?;
                let len = usize::try_from(len).map_err(|_| self.error("a string is too long"))?;
                self.utf(len)?
            }
            TC_REFERENCE => {
                let handle = self.u32()?;
                let index = handle.checked_sub(BASE_HANDLE).map(|i| i as usize);
                return match index.and_then(|i| self.handles.get(i)) {
                    Some(Handle::String(text)) => Ok(text.clone()),
                    _ => Err(self.error("a reference to something that is not a string")),
                };
            }
            _ => return Err(self.error("a map entry that is not a string")),
        };
        self.new_handle(Handle::String(string.clone()))?;
        Ok(string)
    }
}

/// Java's modified UTF-8 (`DataInput.readUTF`): UTF-16 code units in one to three bytes.
fn modified_utf8(bytes: &[u8]) -> Option<String> {
    let mut units = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let continuation = |k: usize| bytes.get(i + k).filter(|c| **c & 0xC0 == 0x80).copied();
        let (unit, width) = match b {
            0x01..=0x7F => (u16::from(b), 1),
            0xC0..=0xDF => {
                let c1 = continuation(1)?;
                ((u16::from(b & 0x1F) << 6) | u16::from(c1 & 0x3F), 2)
            }
            0xE0..=0xEF => {
                let (c1, c2) = (continuation(1)?, continuation(2)?);
                let unit = (u16::from(b & 0x0F) << 12)
                    | (u16::from(c1 & 0x3F) << 6)
                    | u16::from(c2 & 0x3F);
                (unit, 3)
            }
            _ => return None,
        };
        units.push(unit);
        i += width;
    }
    String::from_utf16(&units).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream as `ObjectOutputStream` writes a `HashMap<String, String>`.
    fn stream(entries: &[&[u8]], size: u32) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[TC_OBJECT, TC_CLASSDESC, 0, 17]);
        out.extend_from_slice(b"java.util.HashMap");
        out.extend_from_slice(&0x0507_DAC1_C316_60D1u64.to_be_bytes());
        out.extend_from_slice(&[0x03, 0, 2, b'F', 0, 10]);
        out.extend_from_slice(b"loadFactor");
        out.extend_from_slice(&[b'I', 0, 9]);
        out.extend_from_slice(b"threshold");
        out.extend_from_slice(&[TC_ENDBLOCKDATA, TC_NULL]);
        out.extend_from_slice(&[0x3F, 0x40, 0, 0, 0, 0, 0, 12]);
        out.extend_from_slice(&[TC_BLOCKDATA, 8, 0, 0, 0, 16]);
        out.extend_from_slice(&size.to_be_bytes());
        for entry in entries {
            out.extend_from_slice(entry);
        }
        out.push(TC_ENDBLOCKDATA);
        out
    }

    fn read(data: &[u8]) -> Result<Vec<(String, String)>, ImportError> {
        read_string_map(ImportFormat::FreeOtp, data)
    }

    #[test]
    fn reads_strings_long_strings_and_references() {
        let data = stream(
            &[
                b"\x74\x00\x01k",
                b"\x7C\x00\x00\x00\x00\x00\x00\x00\x04\xC0\x80\xC3\xA9",
                b"\x74\x00\x02k2",
                // The first string object: handles 0 (class) and 1 (map) come before it.
                &[TC_REFERENCE, 0x00, 0x7E, 0x00, 0x02],
            ],
            2,
        );
        let map = read(&data).unwrap();
        assert_eq!(
            map,
            vec![
                ("k".to_owned(), "\0é".to_owned()),
                ("k2".to_owned(), "k".to_owned())
            ]
        );
    }

    #[test]
    fn decodes_supplementary_characters_as_surrogate_pairs() {
        assert_eq!(
            modified_utf8(b"\xED\xA0\xBD\xED\xB4\x91").as_deref(),
            Some("🔑")
        );
        assert_eq!(modified_utf8(b"\xED\xA0\xBD"), None, "a lone surrogate");
        assert_eq!(modified_utf8(b"\x00"), None, "NUL is written as C0 80");
        assert_eq!(modified_utf8(b"\xF0\x9F\x94\x91"), None, "4-byte UTF-8");
    }

    #[test]
    fn refuses_hostile_lengths_counts_and_shapes() {
        let refused = |data: &[u8]| matches!(read(data), Err(ImportError::InvalidFile { .. }));
        // A long string claiming 2^63 bytes, a string running past the end.
        assert!(refused(&stream(
            &[b"\x7C\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF"],
            1
        )));
        assert!(refused(&stream(&[b"\x74\xFF\xFFabc"], 1)));
        // A size of 4 billion entries; a size that does not match the entries.
        assert!(refused(&stream(&[], u32::MAX)));
        assert!(refused(&stream(&[b"\x74\x00\x01k", b"\x74\x00\x01v"], 2)));
        // A reference to the map itself, or past every handle.
        assert!(refused(&stream(&[&[TC_REFERENCE, 0, 0x7E, 0, 1]], 1)));
        assert!(refused(&stream(
            &[&[TC_REFERENCE, 0xFF, 0xFF, 0xFF, 0xFF]],
            1
        )));
        // An object value instead of a string.
        assert!(refused(&stream(&[b"\x74\x00\x01k", &[TC_OBJECT]], 1)));
        // Truncated anywhere.
        let whole = stream(&[b"\x74\x00\x01k", b"\x74\x00\x01v"], 1);
        assert_eq!(read(&whole).unwrap().len(), 1);
        for cut in 0..whole.len() {
            assert!(refused(&whole[..cut]), "cut at {cut}");
        }
        let mut other = whole.clone();
        other[8] = b'X';
        assert!(refused(&other), "another class");
    }
}
