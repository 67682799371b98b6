# Every dependency comes from Debian's packages. A missing one stops configure and
# names the package to install (scripts/install-deps.sh installs them all).
include(FindPkgConfig)

function(blksim_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR
      "blksim needs ${what}, which was not found.\n"
      "Install it with:  apt-get install ${package}\n"
      "(or run scripts/install-deps.sh as root to install everything blksim needs)")
  endif()
endfunction()

find_package(absl CONFIG QUIET)
blksim_require(absl_FOUND "Abseil" libabsl-dev)

find_package(CLI11 CONFIG QUIET)
blksim_require(CLI11_FOUND "CLI11" libcli11-dev)

find_package(tomlplusplus CONFIG QUIET)
blksim_require(tomlplusplus_FOUND "toml++ (scenario file parser)" libtomlplusplus-dev)

find_package(nlohmann_json CONFIG QUIET)
blksim_require(nlohmann_json_FOUND "nlohmann-json (JSON Lines and repro files)" nlohmann-json3-dev)

find_package(ZLIB QUIET)
blksim_require(ZLIB_FOUND "zlib (images carried in repro files)" zlib1g-dev)

find_package(PkgConfig QUIET)
blksim_require(PKG_CONFIG_FOUND "pkg-config" pkg-config)
pkg_check_modules(GRAPHVIZ QUIET IMPORTED_TARGET libgvc libcgraph)
blksim_require(GRAPHVIZ_FOUND "Graphviz libraries (libgvc, libcgraph)" "libgraphviz-dev graphviz")

if(BLKSIM_BUILD_TESTS)
  find_package(Catch2 CONFIG QUIET)
  blksim_require(Catch2_FOUND "Catch2 v2" catch2)
  if(Catch2_VERSION VERSION_GREATER_EQUAL 3)
    message(FATAL_ERROR "blksim's tests use Catch2 v2 (Debian 12's catch2 package); found ${Catch2_VERSION}")
  endif()
  find_package(rapidcheck CONFIG QUIET)
  blksim_require(rapidcheck_FOUND "RapidCheck" librapidcheck-dev)
endif()
