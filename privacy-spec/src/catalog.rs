//! The platform's privacy types: every kind of personal information a mini program may declare in
//! its user privacy protection guidelines, with the interfaces the platform maps to each.
//!
//! The order of [`BUILTIN_SCOPES`] is part of the format: an entry's index is its bit in a scope
//! set, so new types are only ever appended.

/// One built-in privacy type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinScope {
    /// Stable snake_case id used in `#[privacy_scope("…")]` and in `privacy.toml`.
    pub id: &'static str,
    /// The platform's Chinese wording, as shown in the guidelines.
    pub name_zh: &'static str,
    /// An English rendering of the same wording.
    pub name_en: &'static str,
    /// The key of the type in the platform's server API (`setprivacysetting`).
    pub privacy_key: &'static str,
    /// The interfaces and components the platform maps to this type.
    pub interfaces: &'static [&'static str],
    /// `true` for types that have platform interfaces; `false` for self-collected data.
    pub has_platform_interface: bool,
}

macro_rules! catalog {
    ($( $id:literal, $zh:literal, $en:literal, $key:literal, $iface:expr, [$($i:literal),* $(,)?]; )*) => {
        /// Every built-in privacy type, in bit order.
        pub const BUILTIN_SCOPES: &[BuiltinScope] = &[
            $( BuiltinScope {
                id: $id,
                name_zh: $zh,
                name_en: $en,
                privacy_key: $key,
                has_platform_interface: $iface,
                interfaces: &[$($i),*],
            }, )*
        ];
    };
}

catalog! {
    "user_info", "收集你的昵称、头像", "Collect your nickname and avatar", "UserInfo", true,
        ["button.chooseAvatar", "input.nickname", "getUserInfo", "getUserProfile", "button.getUserInfo"];
    "location", "收集你的位置信息", "Collect your location", "Location", true,
        ["authorize.userLocation", "authorize.userLocationBackground", "authorize.userFuzzyLocation",
         "getLocation", "startLocationUpdate", "startLocationUpdateBackground", "getFuzzyLocation",
         "MapContext.moveToLocation"];
    "chosen_location", "收集你选择的位置信息", "Collect the location you choose", "ChooseLocation", true,
        ["choosePoi", "chooseLocation"];
    "address", "收集你的地址", "Collect your address", "Address", true, ["chooseAddress"];
    "invoice", "收集你的发票信息", "Collect your invoice details", "Invoice", true,
        ["chooseInvoiceTitle", "chooseInvoice"];
    "werun", "收集你的微信运动步数", "Collect your WeRun step count", "RunData", true,
        ["authorize.werun", "getWeRunData"];
    "phone_number", "收集你的手机号", "Collect your phone number", "PhoneNumber", true,
        ["button.getPhoneNumber", "button.getRealtimePhoneNumber"];
    "license_plate", "收集你的车牌号", "Collect your licence plate number", "LicensePlate", true,
        ["chooseLicensePlate"];
    "chosen_media", "收集你选中的照片或视频信息", "Collect the photos or videos you choose", "Album", true,
        ["chooseImage", "chooseMedia", "chooseVideo"];
    "chosen_file", "收集你选中的文件", "Collect the files you choose", "MessageFile", true,
        ["chooseMessageFile"];
    "microphone", "访问你的麦克风", "Access your microphone", "Record", true,
        ["authorize.record", "startRecord", "RecorderManager.start", "live-pusher", "joinVoIPChat"];
    "camera", "访问你的摄像头", "Access your camera", "Camera", true,
        ["authorize.camera", "createVKSession", "camera", "live-pusher", "voip-room"];
    "bluetooth", "访问你的蓝牙", "Access your Bluetooth", "BlueTooth", true,
        ["authorize.bluetooth", "openBluetoothAdapter", "createBLEPeripheralServer"];
    "album_write", "使用你的相册（仅写入）权限", "Use your photo album (write only)", "AlbumWriteOnly", true,
        ["authorize.writePhotosAlbum", "saveImageToPhotosAlbum", "saveVideoToPhotosAlbum"];
    "contacts_write", "使用你的通讯录（仅写入）权限", "Use your contacts (write only)", "Contact", true,
        ["authorize.addPhoneContact", "addPhoneContact"];
    "calendar_write", "使用你的日历（仅写入）权限", "Use your calendar (write only)", "CalendarWriteOnly", true,
        ["authorize.addPhoneCalendar", "addPhoneRepeatCalendar", "addPhoneCalendar"];
    "accelerometer", "调用你的加速传感器", "Use your accelerometer", "Accelerometer", true,
        ["startAccelerometer"];
    "compass", "调用你的磁场传感器", "Use your magnetic field sensor", "Compass", true, ["startCompass"];
    "device_motion", "调用你的方向传感器", "Use your orientation sensor", "DeviceMotion", true,
        ["startDeviceMotionListening"];
    "gyroscope", "调用你的陀螺仪传感器", "Use your gyroscope", "Gyroscope", true, ["startGyroscope"];
    "clipboard", "读取你的剪切板", "Read your clipboard", "Clipboard", true,
        ["setClipboardData", "getClipboardData"];
    "device_info", "设备信息", "Device information", "DeviceInfo", false, [];
    "id_number", "身份证号码", "ID card number", "EXIDNumber", false, [];
    "order_info", "订单信息", "Order information", "EXOrderInfo", false, [];
    "published_content", "发布内容", "Content you publish", "EXUserPublishContent", false, [];
    "followed_accounts", "所关注账号", "Accounts you follow", "EXUserFollowAcct", false, [];
    "operation_log", "操作日志", "Operation log", "EXUserOpLog", false, [];
    "email", "邮箱", "Email address", "Email", false, [];
}

/// The bit index of the built-in scope `id`, if there is one.
///
/// A `const fn`, so generated code can turn a scope literal into a bit at compile time.
pub const fn builtin_index(id: &str) -> Option<usize> {
    let mut i = 0;
    while i < BUILTIN_SCOPES.len() {
        if const_str_eq(BUILTIN_SCOPES[i].id, id) {
            return Some(i);
        }
        i += 1;
    }
    None
}

const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_every_platform_type() {
        let with_api = BUILTIN_SCOPES.iter().filter(|s| s.has_platform_interface).count();
        assert_eq!(with_api, 21);
        assert_eq!(BUILTIN_SCOPES.len() - with_api, 7);
    }

    #[test]
    fn ids_are_unique_snake_case() {
        for (i, s) in BUILTIN_SCOPES.iter().enumerate() {
            assert!(s.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{}", s.id);
            assert_eq!(builtin_index(s.id), Some(i), "{} is not unique", s.id);
        }
        assert_eq!(builtin_index("nope"), None);
    }

    #[test]
    fn seed_interfaces_map_to_their_types() {
        let of = |api: &str| BUILTIN_SCOPES.iter().find(|s| s.interfaces.contains(&api)).map(|s| s.id);
        assert_eq!(of("chooseLocation"), Some("chosen_location"));
        assert_eq!(of("getWeRunData"), Some("werun"));
        assert_eq!(of("getClipboardData"), Some("clipboard"));
    }
}
