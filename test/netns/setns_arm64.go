package netns

// sysSetns is setns(2) on linux/arm64 (the syscall package predates it).
const sysSetns = 268
