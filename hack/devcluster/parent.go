package main

import (
	"os"
	"time"
)

// exitWithParent ends a part when its supervisor is gone. The supervisor also asks the kernel
// for SIGKILL on its death (Pdeathsig), but that is tied to the thread that forked the part; this
// check is the backstop so an orphaned part never keeps a port or an etcd directory busy.
func exitWithParent() {
	parent := os.Getppid()
	go func() {
		for range time.Tick(time.Second) {
			if os.Getppid() != parent {
				os.Exit(3)
			}
		}
	}()
}
