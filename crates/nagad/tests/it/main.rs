//! Integration tests of `till-nagad` against the real `till-sandbox`.
