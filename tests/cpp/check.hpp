// A minimal test harness: CHECK records failures, and the summary line reads "N passed, N failed".
#pragma once

#include <cmath>
#include <iostream>
#include <stdexcept>
#include <string>

namespace check {

inline int& passed() {
  static int count = 0;
  return count;
}
inline int& failed() {
  static int count = 0;
  return count;
}

inline void record(bool ok, const std::string& what, const char* file, int line) {
  if (ok) {
    ++passed();
  } else {
    ++failed();
    std::cerr << file << ":" << line << ": FAILED: " << what << "\n";
  }
}

inline bool close(double a, double b, double rtol) {
  return std::abs(a - b) <= rtol * std::max(std::abs(a), std::abs(b));
}

// Runs statement, expecting std::invalid_argument whose message contains `expected`.
template <typename F>
void check_invalid(F&& statement, const std::string& expected, const char* file, int line) {
  std::string message;
  try {
    statement();
  } catch (const std::invalid_argument& error) {
    message = error.what();
  }
  record(message.find(expected) != std::string::npos,
         "invalid_argument containing '" + expected + "', got '" + message + "'", file, line);
}

inline int summary() {
  std::cout << passed() << " passed, " << failed() << " failed\n";
  return failed() == 0 ? 0 : 1;
}

}  // namespace check

#define CHECK(condition) \
  ::check::record(static_cast<bool>(condition), #condition, __FILE__, __LINE__)
#define CHECK_CLOSE(a, b, rtol)                                                              \
  ::check::record(                                                                           \
      ::check::close((a), (b), (rtol)),                                                      \
      std::string(#a " ~= " #b " (") + std::to_string(a) + " vs " + std::to_string(b) + ")", \
      __FILE__, __LINE__)
#define CHECK_THROWS(Exception, statement)                                             \
  do {                                                                                 \
    bool thrown = false;                                                               \
    try {                                                                              \
      statement;                                                                       \
    } catch (const Exception&) {                                                       \
      thrown = true;                                                                   \
    }                                                                                  \
    ::check::record(thrown, "throws " #Exception ": " #statement, __FILE__, __LINE__); \
  } while (false)
#define CHECK_INVALID(statement, expected) \
  ::check::check_invalid([&] { statement; }, expected, __FILE__, __LINE__)
