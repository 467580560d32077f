"""The points mall, coupons and the tiers' coupon packs, store codes and in-store verification."""
