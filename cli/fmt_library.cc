// fmt's compiled part (what its shared library holds), built into the tdsim command so
// that, with libstdc++ linked statically, the command loads no C++ shared library: the
// distribution ships fmt only as a shared library, which would bring libstdc++.so back
// (docs/performance.md, "Cold start, round 4"). Only in the statically linked tdsim
// (cli/CMakeLists.txt); every other target uses the shared libfmt.
//
// format-inl.h defines fmt's non-template functions; the explicit instantiations below
// are the templates fmt's headers declare and leave to the library (format.h's `extern
// template`s, the floating-point conversion and the locale access).
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API auto decimal_point_impl(locale_ref) -> wchar_t;

}  // namespace detail
FMT_END_NAMESPACE
