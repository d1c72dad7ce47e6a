// The median the benches report: of an odd count the middle value, of an even count the
// upper of the two middle ones (every bench repeats an odd number of times).
#pragma once
#include <algorithm>
#include <vector>

namespace tdsim::bench {

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace tdsim::bench
