// Whether this test program (and so the server it starts, built alike) runs
// with AddressSanitizer: its quarantine holds freed memory, so a process's
// RSS says nothing about leaks or growth, and tests assert memory figures
// only without it.
#pragma once

namespace gms::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif

}  // namespace gms::test
