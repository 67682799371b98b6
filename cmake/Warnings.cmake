# Warning and sanitizer flags shared by every blksim target.
add_library(blksim_options INTERFACE)
target_compile_options(blksim_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow=local
                       -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(BLKSIM_WERROR)
  target_compile_options(blksim_options INTERFACE -Werror)
endif()
if(BLKSIM_SANITIZE)
  target_compile_options(blksim_options INTERFACE -fsanitize=address,undefined
                         -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(blksim_options INTERFACE -fsanitize=address,undefined)
endif()
target_compile_definitions(blksim_options INTERFACE BLKSIM_VERSION="${PROJECT_VERSION}")
