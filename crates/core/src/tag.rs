use std::fmt;

/// A data element tag: (group, element), stored as `group << 16 | element` so tags order as PS3.5 requires.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(pub u32);

impl Tag {
    /// PS3.5 7.5: Item.
    pub const ITEM: Tag = Tag(0xFFFE_E000);
    /// PS3.5 7.5: Item Delimitation Item.
    pub const ITEM_DELIMITATION: Tag = Tag(0xFFFE_E00D);
    /// PS3.5 7.5: Sequence Delimitation Item.
    pub const SEQUENCE_DELIMITATION: Tag = Tag(0xFFFE_E0DD);
    /// (7FE0,0010) Pixel Data.
    pub const PIXEL_DATA: Tag = Tag(0x7FE0_0010);
    /// (0028,0103): decides "US or SS" elements (PS3.5 A.1, PS3.3 C.7.6.3.1).
    pub const PIXEL_REPRESENTATION: Tag = Tag(0x0028_0103);
    /// (0002,0010) Transfer Syntax UID.
    pub const TRANSFER_SYNTAX_UID: Tag = Tag(0x0002_0010);
    /// (0002,0000) File Meta Information Group Length.
    pub const FILE_META_GROUP_LENGTH: Tag = Tag(0x0002_0000);
    /// (0008,0005) Specific Character Set.
    pub const SPECIFIC_CHARACTER_SET: Tag = Tag(0x0008_0005);
    /// (0008,0016) SOP Class UID.
    pub const SOP_CLASS_UID: Tag = Tag(0x0008_0016);
    /// (0008,0018) SOP Instance UID.
    pub const SOP_INSTANCE_UID: Tag = Tag(0x0008_0018);

    /// The tag (group,element).
    pub const fn new(group: u16, element: u16) -> Tag {
        Tag(((group as u32) << 16) | element as u32)
    }
    /// The group number.
    pub const fn group(self) -> u16 {
        (self.0 >> 16) as u16
    }
    /// The element number.
    pub const fn element(self) -> u16 {
        self.0 as u16
    }
    /// PS3.5 7.2: gggg,0000 is a group length.
    pub const fn is_group_length(self) -> bool {
        self.element() == 0 && self.group() != 0xFFFE
    }
    /// PS3.5 7.8.1: odd groups other than 0001, 0003, 0005, 0007 and FFFF are private.
    pub const fn is_private(self) -> bool {
        let g = self.group();
        g % 2 == 1 && g > 0x0007 && g != 0xFFFF
    }
    /// PS3.5 7.8.1: (gggg,0010–00FF) in a private group reserve a block for a private creator.
    pub const fn is_private_creator(self) -> bool {
        self.is_private() && self.element() >= 0x0010 && self.element() <= 0x00FF
    }
    /// PS3.5 7.5: the three item/delimiter tags of group FFFE.
    pub const fn is_delimiter_group(self) -> bool {
        self.group() == 0xFFFE
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:04X},{:04X})", self.group(), self.element())
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_group_then_element() {
        assert!(Tag::new(0x0008, 0xFFFF) < Tag::new(0x0009, 0x0000));
        assert_eq!(Tag::new(0x7FE0, 0x0010), Tag::PIXEL_DATA);
        assert_eq!(format!("{}", Tag::PIXEL_DATA), "(7FE0,0010)");
    }

    #[test]
    fn classifies_private_and_group_length() {
        assert!(Tag::new(0x0009, 0x0010).is_private_creator());
        assert!(!Tag::new(0x0009, 0x1010).is_private_creator());
        assert!(!Tag::new(0x0007, 0x0010).is_private());
        assert!(Tag::new(0x0008, 0x0000).is_group_length());
        assert!(!Tag::ITEM.is_group_length());
    }
}
