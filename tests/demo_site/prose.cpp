// Word lists and sentence shapes for the generated pages. The vocabulary is about meadows,
// volunteers and small-town life, so the text reads like the hand-written pages around it.
#include "prose.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>

namespace meadow::demo_site {

namespace {

constexpr std::array<std::string_view, 24> kSubjects = {
    "the volunteer group",    "our survey team",       "the parish council", "a retired beekeeper",
    "the school garden club", "every second visitor",  "the hedge layer",    "the county recorder",
    "a patient botanist",     "the morning walkers",   "the orchard trust",  "our newest member",
    "the farm next door",     "the river wardens",     "the seed library",   "a visiting ecologist",
    "the bell ringers",       "the allotment society", "two local students", "the village shop",
    "the weekend crew",       "the mapping group",     "a careful reader",   "the grazing tenant"};

constexpr std::array<std::string_view, 24> kVerbs = {
    "counted", "mapped",  "mowed",    "photographed", "replanted",  "discussed", "measured",   "described",
    "rescued", "watered", "recorded", "fenced",       "compared",   "sketched",  "catalogued", "collected",
    "cleared", "visited", "repaired", "protected",    "celebrated", "sorted",    "labelled",   "questioned"};

constexpr std::array<std::string_view, 32> kObjects = {"the orchids along the bank",
                                                       "a row of young hawthorn",
                                                       "the wet corner by the stile",
                                                       "the last of the cowslips",
                                                       "three old field maples",
                                                       "the path to the footbridge",
                                                       "a patch of knapweed",
                                                       "the nest boxes on the barn",
                                                       "the bee orchid site",
                                                       "the clover in the lower field",
                                                       "a badger sett",
                                                       "the drystone wall",
                                                       "the rain gauge",
                                                       "the dew pond",
                                                       "the seed trays",
                                                       "the meadow brown butterflies",
                                                       "the plot of yellow rattle",
                                                       "the chalk bank",
                                                       "the scythe handles",
                                                       "the hay bales",
                                                       "the notice board",
                                                       "the wildflower verge",
                                                       "the moth trap",
                                                       "the gate hinges",
                                                       "the winter seed packets",
                                                       "the mossy steps",
                                                       "the pollinator strip",
                                                       "the old cart track",
                                                       "the willow cuttings",
                                                       "the pond dipping platform",
                                                       "the blackthorn thicket",
                                                       "the ragged robin"};

constexpr std::array<std::string_view, 24> kEndings = {
    "before the first frost",        "after a week of rain",      "on a bright Sunday morning",
    "while the cattle were away",    "with more care than usual", "for the third year running",
    "in time for the open day",      "as the swallows came back", "despite the strong wind",
    "with help from the school",     "at the edge of the wood",   "between two heavy showers",
    "long after the light had gone", "as the hay was turned",     "under a grey sky",
    "before anyone else arrived",    "with borrowed tools",       "while the kettle boiled",
    "during the late summer cut",    "in the shade of the oak",   "at the very last minute",
    "to everyone's quiet surprise",  "with a notebook in hand",   "once the gate was fixed"};

constexpr std::array<std::string_view, 16> kAsides = {
    "which nobody expected",        "and the numbers were encouraging", "though the ground was soft",
    "as the old notes suggested",   "and it took most of the day",      "although the map was wrong",
    "so the records are complete",  "and the results surprised us",     "which made the spring easier",
    "while the children watched",   "and we wrote everything down",     "though the light was poor",
    "as the rules of the site ask", "and the dog helped a little",      "which the council noticed",
    "so next year can compare"};

constexpr std::array<std::string_view, 20> kHeadingWords = {
    "notes",       "spring", "hedges",  "seeds",  "volunteers", "counting", "orchard", "weather", "tools",    "grazing",
    "wildflowers", "paths",  "records", "summer", "winter",     "insects",  "soil",    "harvest", "meetings", "maps"};

constexpr std::array<std::string_view, 16> kFirstNames = {"Ada",   "Bram", "Cora",  "Dilip", "Elin", "Farid",
                                                          "Greta", "Hugo", "Ines",  "Jonah", "Kemi", "Lorcan",
                                                          "Maren", "Nils", "Odile", "Priya"};

constexpr std::array<std::string_view, 16> kLastNames = {
    "Ashby", "Brennan", "Castell",   "Dunmore",   "Ekwueme", "Fairlie",  "Gorski", "Hallam",
    "Iqbal", "Jessop",  "Kowalczyk", "Lindqvist", "Moreau",  "Nakamura", "Okafor", "Penhale"};

template <class List>
std::string_view pick(ProseRandom& random, const List& list) {
  return list[random.below(list.size())];
}

void capitalise(std::string& s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
}

}  // namespace

std::uint64_t ProseRandom::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string prose_sentence(ProseRandom& random) {
  std::string s(pick(random, kSubjects));
  s += ' ';
  s += pick(random, kVerbs);
  s += ' ';
  s += pick(random, kObjects);
  const std::size_t shape = random.below(4);
  if (shape >= 1) {
    s += ' ';
    s += pick(random, kEndings);
  }
  if (shape >= 2) {
    s += ", ";
    s += pick(random, kAsides);
  }
  if (shape == 3) {
    s += ", and ";
    s += pick(random, kSubjects);
    s += ' ';
    s += pick(random, kVerbs);
    s += ' ';
    s += pick(random, kObjects);
  }
  capitalise(s);
  s += '.';
  return s;
}

std::string prose_paragraph(ProseRandom& random) {
  const std::size_t count = 3 + random.below(4);
  std::string p;
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) p += ' ';
    p += prose_sentence(random);
  }
  return p;
}

std::string prose_heading(ProseRandom& random) {
  const std::size_t count = 2 + random.below(4);
  std::array<std::size_t, 5> used{};
  std::string h;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t index = random.below(kHeadingWords.size());
    while (std::find(used.begin(), used.begin() + static_cast<std::ptrdiff_t>(i), index) !=
           used.begin() + static_cast<std::ptrdiff_t>(i)) {
      index = (index + 1) % kHeadingWords.size();
    }
    used[i] = index;
    std::string word(kHeadingWords[index]);
    capitalise(word);
    if (i > 0) h += i + 1 == count ? " and " : ", ";
    h += word;
  }
  return h;
}

std::string prose_name(ProseRandom& random) {
  std::string name(pick(random, kFirstNames));
  name += ' ';
  name += pick(random, kLastNames);
  return name;
}

}  // namespace meadow::demo_site
