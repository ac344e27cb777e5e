package admin

import (
	"github.com/sluice-io/sluice/libs/telemetry"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// ContainerAccounts converts a snapshot of per-container accounts to the
// admin API's form, every service's ListAccounts answer.
func ContainerAccounts(a *telemetry.Accounts) []*adminv1.ContainerAccount {
	rows := a.Snapshot()
	out := make([]*adminv1.ContainerAccount, 0, len(rows))
	for _, row := range rows {
		acc := &adminv1.ContainerAccount{Namespace: row.Namespace, Pod: row.Pod, Container: row.Container, Counts: make(map[string]int64, len(row.Counts))}
		for f, n := range row.Counts {
			acc.Counts[f.String()] = n
		}
		out = append(out, acc)
	}
	return out
}
