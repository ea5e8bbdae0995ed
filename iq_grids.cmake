# The IQ1/IQ2/IQ3 codebooks (lattice grids measured by ggml's authors, not derivable) are not in seek's tree: they
# are extracted at configure time from the llama.cpp source that npm node-llama-cpp ships (its git bundle) into
# ${CMAKE_BINARY_DIR}/generated/iq_grids.h, and SEEK_HAVE_IQ_GRIDS is defined. Without a source the build still
# succeeds and models using IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S or IQ1_M are refused with a message saying how to get
# them. A source whose tables are not the expected codebooks stops the configuration.
#
#   -DSEEK_LLAMA_CPP_SOURCE=PATH   a git bundle, a llama.cpp checkout or a ggml-common.h (default: the bundle in
#                                  tools/oracle/node_modules, installed by scripts/install-deps.sh)
#
# The extraction (~1 s: a bare fetch of the bundle and one `git show`) runs again only when the source, its path or
# the extractor changes; scripts/build.sh re-runs CMake, so a bundle installed after the first build is picked up.
set(SEEK_LLAMA_CPP_SOURCE "" CACHE PATH
    "llama.cpp source for the IQ codebooks: a git bundle, a source tree or ggml-common.h (empty: the npm bundle)")
set(SEEK_IQ_GRIDS_HEADER ${CMAKE_BINARY_DIR}/generated/iq_grids.h)
set(SEEK_IQ_GRIDS_EXTRACTOR ${CMAKE_SOURCE_DIR}/tools/codebooks/extract_iq_grids.py)

set(_iq_src "${SEEK_LLAMA_CPP_SOURCE}")
if(_iq_src STREQUAL "")
  set(_iq_src ${CMAKE_SOURCE_DIR}/tools/oracle/node_modules/node-llama-cpp/llama/gitRelease.bundle)
endif()
get_filename_component(_iq_src "${_iq_src}" ABSOLUTE)
set(_iq_input "${_iq_src}")
if(IS_DIRECTORY "${_iq_src}")
  set(_iq_input "${_iq_src}/ggml/src/ggml-common.h")
endif()

find_program(SEEK_PYTHON3 python3 HINTS /usr/bin)
set(SEEK_HAVE_IQ_GRIDS OFF)
if(NOT EXISTS "${_iq_input}")
  message(STATUS "IQ codebooks: none (${_iq_input} is missing): IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS and IQ3_XXS models "
                 "will be refused; run scripts/install-deps.sh and rebuild")
elseif(NOT SEEK_PYTHON3)
  message(WARNING "IQ codebooks: none (python3 not found to read ${_iq_src}): IQ1/IQ2/IQ3 models will be refused")
else()
  # Regenerate only when the header is missing, older than the source or the extractor, or from another source.
  set(_iq_stamp ${SEEK_IQ_GRIDS_HEADER}.source)
  set(_iq_stale TRUE)
  if(EXISTS ${SEEK_IQ_GRIDS_HEADER} AND EXISTS ${_iq_stamp})
    file(READ ${_iq_stamp} _iq_prev)
    if(_iq_prev STREQUAL _iq_src AND NOT "${_iq_input}" IS_NEWER_THAN ${SEEK_IQ_GRIDS_HEADER}
       AND NOT ${SEEK_IQ_GRIDS_EXTRACTOR} IS_NEWER_THAN ${SEEK_IQ_GRIDS_HEADER})
      set(_iq_stale FALSE)
    endif()
  endif()
  if(_iq_stale)
    file(REMOVE ${_iq_stamp})
    file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/generated)
    execute_process(COMMAND ${SEEK_PYTHON3} ${SEEK_IQ_GRIDS_EXTRACTOR} ${_iq_src} ${SEEK_IQ_GRIDS_HEADER}
                    RESULT_VARIABLE _iq_rc ERROR_VARIABLE _iq_err)
    if(_iq_rc EQUAL 1)
      # The source was read and its tables are wrong: never build kernels on them.
      message(FATAL_ERROR "IQ codebooks: ${_iq_err}")
    elseif(NOT _iq_rc EQUAL 0)
      message(WARNING "IQ codebooks: none (${_iq_err}): IQ1/IQ2/IQ3 models will be refused")
    else()
      file(WRITE ${_iq_stamp} "${_iq_src}")
      message(STATUS "IQ codebooks: extracted from ${_iq_src}")
    endif()
  endif()
  if(EXISTS ${_iq_stamp})
    set(SEEK_HAVE_IQ_GRIDS ON)
  endif()
  # A changed bundle (npm ci with another version) re-runs CMake, and so the extraction.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_iq_input}" ${SEEK_IQ_GRIDS_EXTRACTOR})
endif()

if(SEEK_HAVE_IQ_GRIDS)
  target_compile_definitions(seeklib PUBLIC SEEK_HAVE_IQ_GRIDS)
  target_include_directories(seeklib PRIVATE ${CMAKE_BINARY_DIR}/generated)
endif()
