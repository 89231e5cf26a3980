package netns

// sysSetns is setns(2) on linux/amd64 (the syscall package predates it).
const sysSetns = 308
