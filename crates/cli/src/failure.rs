//! A subcommand that failed: the message for standard error and the DCMTK exit code it maps to.

pub struct Failure {
    pub code: u8,
    pub message: String,
    /// The input is plainly not DICOM (told from its first bytes): in a directory walk it is skipped,
    /// not failed.
    pub not_dicom: bool,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            not_dicom: false,
        }
    }

    /// Exit 20 (DCMTK's "cannot read input"), marked as not DICOM.
    pub fn not_dicom(message: impl Into<String>) -> Failure {
        Failure {
            not_dicom: true,
            ..Failure::new(crate::exit::CANNOT_READ_INPUT, message)
        }
    }
}
