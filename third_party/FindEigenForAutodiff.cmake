# Finds Eigen 3.4 and provides the imported target Eigen3::Eigen.
#
# Order (see third_party/README.md):
#   1. what the user says: -DEigen3_DIR=<dir with Eigen3Config.cmake> or -DEIGEN3_INCLUDE_DIR=<dir>;
#   2. the PyPI package cmeel-eigen installed for the Python interpreter in use (inside pip's
#      isolated build that is the build environment);
#   3. the system (find_package(Eigen3 CONFIG), e.g. Debian's libeigen3-dev).
# The minor version is pinned because AutoDiffScalar's handling of empty derivative vectors
# changed between releases and our tests rely on 3.4's behaviour.

set(EIGEN_AUTODIFF_EIGEN_VERSION 3.4)

if(TARGET Eigen3::Eigen)
  return()
endif()

if(EIGEN3_INCLUDE_DIR)
  if(NOT EXISTS "${EIGEN3_INCLUDE_DIR}/Eigen/Core")
    message(FATAL_ERROR "EIGEN3_INCLUDE_DIR=${EIGEN3_INCLUDE_DIR} has no Eigen/Core")
  endif()
  file(STRINGS "${EIGEN3_INCLUDE_DIR}/Eigen/src/Core/util/Macros.h" _eigen_version_lines
       REGEX "#define EIGEN_(WORLD|MAJOR)_VERSION")
  string(REGEX MATCHALL "[0-9]+" _eigen_version_numbers "${_eigen_version_lines}")
  string(REPLACE ";" "." _eigen_found_version "${_eigen_version_numbers}")
  if(NOT _eigen_found_version VERSION_EQUAL EIGEN_AUTODIFF_EIGEN_VERSION)
    message(FATAL_ERROR "EIGEN3_INCLUDE_DIR holds Eigen ${_eigen_found_version}; "
                        "eigen-autodiff needs ${EIGEN_AUTODIFF_EIGEN_VERSION}")
  endif()
  add_library(Eigen3::Eigen INTERFACE IMPORTED)
  set_target_properties(Eigen3::Eigen PROPERTIES INTERFACE_INCLUDE_DIRECTORIES
                                                 "${EIGEN3_INCLUDE_DIR}")
  message(STATUS "Eigen ${_eigen_found_version} from EIGEN3_INCLUDE_DIR: ${EIGEN3_INCLUDE_DIR}")
  return()
endif()

set(_eigen_hints)
if(NOT Eigen3_DIR)
  find_package(Python COMPONENTS Interpreter QUIET)
  if(Python_EXECUTABLE)
    # cmeel installs its prefix in a folder "cmeel.prefix" beside the "cmeel" package.
    execute_process(
      COMMAND "${Python_EXECUTABLE}" -c
              "import cmeel, pathlib; print(pathlib.Path(cmeel.__file__).parent.parent / 'cmeel.prefix')"
      OUTPUT_VARIABLE _cmeel_prefix
      OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE _cmeel_result
      ERROR_QUIET)
    if(_cmeel_result EQUAL 0 AND EXISTS "${_cmeel_prefix}")
      list(APPEND _eigen_hints "${_cmeel_prefix}")
    endif()
  endif()
endif()

find_package(Eigen3 ${EIGEN_AUTODIFF_EIGEN_VERSION} CONFIG REQUIRED HINTS ${_eigen_hints})
if(NOT Eigen3_VERSION VERSION_GREATER_EQUAL ${EIGEN_AUTODIFF_EIGEN_VERSION}
   OR Eigen3_VERSION VERSION_GREATER_EQUAL 3.5)
  message(FATAL_ERROR "Found Eigen ${Eigen3_VERSION} in ${Eigen3_DIR}; "
                      "eigen-autodiff needs ${EIGEN_AUTODIFF_EIGEN_VERSION}.x")
endif()
message(STATUS "Eigen ${Eigen3_VERSION} from ${Eigen3_DIR}")
