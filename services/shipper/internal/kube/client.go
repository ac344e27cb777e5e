package kube

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// Client gives the watcher's informers their sources in the core/v1 API.
type Client interface {
	// Pods lists and watches the pods fieldSelector selects, in every
	// namespace.
	Pods(fieldSelector string) cache.ListerWatcher
	// Namespaces lists and watches every namespace.
	Namespaces() cache.ListerWatcher
}

// The watcher reads only core/v1, so its client knows only core/v1: the
// generated clientset and informer factory register every API group of
// Kubernetes, which would make each shipper, on every node, carry tens of
// megabytes of code it never runs.
var (
	coreScheme = runtime.NewScheme()
	coreCodecs = serializer.NewCodecFactory(coreScheme)
	coreParams = runtime.NewParameterCodec(coreScheme)
)

func init() {
	if err := corev1.AddToScheme(coreScheme); err != nil {
		panic(err) // a static registration: cannot fail
	}
}

// NewClient returns the API server client for kubeconfig, or for the
// in-cluster service account when kubeconfig is empty. It asks for
// protobuf, which is cheaper for the API server and the shipper than JSON.
func NewClient(kubeconfig string) (Client, error) {
	var (
		rc  *rest.Config
		err error
	)
	if kubeconfig == "" {
		rc, err = rest.InClusterConfig()
	} else {
		rc, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes client config: %w", err)
	}
	rc.APIPath = "/api"
	rc.GroupVersion = &corev1.SchemeGroupVersion
	rc.NegotiatedSerializer = coreCodecs.WithoutConversion()
	rc.ContentType = runtime.ContentTypeProtobuf
	rc.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	rc.UserAgent = "sluice-shipper"
	c, err := rest.RESTClientFor(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return restClient{c}, nil
}

type restClient struct{ rc *rest.RESTClient }

func (c restClient) Pods(fieldSelector string) cache.ListerWatcher {
	return c.listWatch("pods", fieldSelector, func() runtime.Object { return &corev1.PodList{} })
}

func (c restClient) Namespaces() cache.ListerWatcher {
	return c.listWatch("namespaces", "", func() runtime.Object { return &corev1.NamespaceList{} })
}

// listWatch lists (into newList's type) and watches resource across
// namespaces, as the generated typed client does.
func (c restClient) listWatch(resource, fieldSelector string, newList func() runtime.Object) cache.ListerWatcher {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.FieldSelector = fieldSelector
			out := newList()
			err := c.rc.Get().Resource(resource).VersionedParams(&opts, coreParams).
				Timeout(timeoutOf(opts)).Do(ctx).Into(out)
			return out, err
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.FieldSelector = fieldSelector
			opts.Watch = true
			return c.rc.Get().Resource(resource).VersionedParams(&opts, coreParams).
				Timeout(timeoutOf(opts)).Watch(ctx)
		},
	}
}

func timeoutOf(opts metav1.ListOptions) time.Duration {
	if opts.TimeoutSeconds == nil {
		return 0
	}
	return time.Duration(*opts.TimeoutSeconds) * time.Second
}
