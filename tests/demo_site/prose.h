// Deterministic made-up English prose for the generated pages: the same seed always gives
// the same words, so /pages/N.html has the same bytes on every run and every machine.
#pragma once

#include <cstdint>
#include <string>

namespace meadow::demo_site {

// splitmix64: small, fast, and fully specified, so output never depends on the library.
class ProseRandom {
 public:
  explicit ProseRandom(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  // Uniform enough in [0, n) for picking words; n > 0.
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t state_;
};

// One sentence of 8 to 30 words, capitalised, ending in a full stop.
std::string prose_sentence(ProseRandom& random);
// Three to six sentences, plain text (no markup, nothing that needs escaping).
std::string prose_paragraph(ProseRandom& random);
// A short title-case heading of two to five words.
std::string prose_heading(ProseRandom& random);
// A person's name for bylines and comments.
std::string prose_name(ProseRandom& random);

}  // namespace meadow::demo_site
