//! End-to-end tests of the demo plugin host (`tessera-server`), driven over real HTTP against
//! the real binary started with several worker processes on `127.0.0.1:0`.

// Prefork supervision: workers share the address, crash recovery, clean shutdown.
mod supervisor;
// Helpers shared by these modules.
mod util;
