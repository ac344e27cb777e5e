module github.com/sluice-io/sluice/loadtest

go 1.26.0

require (
	github.com/sluice-io/sluice/libs v0.0.0
	github.com/sluice-io/sluice/proto v0.0.0
	github.com/sluice-io/sluice/services/indexer v0.0.0
	github.com/sluice-io/sluice/services/parser v0.0.0
	github.com/sluice-io/sluice/services/shipper v0.0.0
)

require google.golang.org/protobuf v1.36.12 // indirect

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/twmb/franz-go v1.22.3
	github.com/twmb/franz-go/pkg/kadm v1.19.0
	github.com/twmb/franz-go/pkg/kmsg v1.15.1 // indirect
)

replace github.com/sluice-io/sluice/libs => ../libs

replace github.com/sluice-io/sluice/proto => ../proto

replace github.com/sluice-io/sluice/services/shipper => ../services/shipper

replace github.com/sluice-io/sluice/services/parser => ../services/parser

replace github.com/sluice-io/sluice/services/indexer => ../services/indexer
