//! The protobuf messages of Google Authenticator's export, declared by hand (no build
//! script, no protoc). Field numbers are those of Google Authenticator's `MigrationPayload`.

use zeroize::Zeroize;

#[derive(Clone, PartialEq, prost::Message)]
pub struct MigrationPayload {
    #[prost(message, repeated, tag = "1")]
    pub otp_parameters: Vec<OtpParametersProto>,
    #[prost(int32, tag = "2")]
    pub version: i32,
    #[prost(int32, tag = "3")]
    pub batch_size: i32,
    #[prost(int32, tag = "4")]
    pub batch_index: i32,
    #[prost(int32, tag = "5")]
    pub batch_id: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OtpParametersProto {
    #[prost(bytes = "vec", tag = "1")]
    pub secret: Vec<u8>,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(string, tag = "3")]
    pub issuer: String,
    /// 0 unspecified, 1 SHA1, 2 SHA256, 3 SHA512, 4 MD5.
    #[prost(int32, tag = "4")]
    pub algorithm: i32,
    /// 0 unspecified, 1 six, 2 eight.
    #[prost(int32, tag = "5")]
    pub digits: i32,
    /// 0 unspecified, 1 HOTP, 2 TOTP.
    #[prost(int32, tag = "6")]
    pub otp_type: i32,
    #[prost(int64, tag = "7")]
    pub counter: i64,
}

impl Drop for OtpParametersProto {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

pub const ALGORITHM_UNSPECIFIED: i32 = 0;
pub const ALGORITHM_SHA1: i32 = 1;
pub const ALGORITHM_SHA256: i32 = 2;
pub const ALGORITHM_SHA512: i32 = 3;
pub const ALGORITHM_MD5: i32 = 4;

pub const DIGITS_UNSPECIFIED: i32 = 0;
pub const DIGITS_SIX: i32 = 1;
pub const DIGITS_EIGHT: i32 = 2;

pub const TYPE_UNSPECIFIED: i32 = 0;
pub const TYPE_HOTP: i32 = 1;
pub const TYPE_TOTP: i32 = 2;
