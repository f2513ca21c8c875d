//! A stateful fake of the Seedance provider on 127.0.0.1.
