"""The points mall, coupons, store codes and in-store verification."""
