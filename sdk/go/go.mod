module gatekeeper.example/gatekeeper

go 1.19
