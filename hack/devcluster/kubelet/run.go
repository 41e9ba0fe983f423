package kubelet

// Run wires the kubelet together: one API client, one pod informer (bound pods only, managed
// fields stripped to keep memory low), one rate-limited work queue of pod keys drained by a few
// workers, the node heartbeats, the process runtime and the log server. Every event about a pod
// on one of our nodes, every process exit and every time-based deadline planPod reports becomes
// one queued sync of that pod, so the kubelet is level-triggered: whatever it missed, the next
// sync of the pod sees the whole state again.

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
)

// Run registers the nodes and serves their pods until ctx is cancelled. It returns an error if
// the options are invalid or the API server cannot be reached at start.
func Run(ctx context.Context, opts Options) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	config, err := clientcmd.BuildConfigFromFlags("", opts.Kubeconfig)
	if err != nil {
		return fmt.Errorf("loading kubeconfig %s: %w", opts.Kubeconfig, err)
	}
	// Pod starts come in bursts (a ReplicaSet scaled to 50); the defaults (5 qps) would crawl.
	config.QPS, config.Burst = 100, 200
	config.UserAgent = "devcluster-kubelet"
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
		return fmt.Errorf("creating state dir: %w", err)
	}
	clientCAs, err := clusterCA(config)
	if err != nil {
		return err
	}
	k := newKubelet(opts, client, config)
	return k.run(ctx, clientCAs)
}

// kubelet is the imperative shell around planPod.
type kubelet struct {
	opts      Options
	client    kubernetes.Interface
	apiServer *url.URL
	now       func() time.Time
	logf      func(format string, args ...any)

	nodes     map[string]*nodeIdentity
	addresses *podAddresses
	runtime   *processRuntime
	queue     workqueue.TypedRateLimitingInterface[string]
	pods      corelisters.PodLister
	host      hostFacts
	backoff   backoff

	mu sync.Mutex
	// tracked maps pod keys to the UID last synced, to clean up after deleted pods.
	tracked map[string]types.UID
	// written remembers the last status write per pod (see writeStatus).
	written map[types.UID]statusMark
	// finalized holds pods whose object deletion was sent.
	finalized map[types.UID]bool
}

func newKubelet(opts Options, client kubernetes.Interface, config *rest.Config) *kubelet {
	logf := opts.Log
	if logf == nil {
		logf = func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05.000")+" kubelet: "+format+"\n", args...)
		}
	}
	k := &kubelet{
		opts:      opts,
		client:    client,
		now:       time.Now,
		logf:      logf,
		nodes:     map[string]*nodeIdentity{},
		addresses: newPodAddresses(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "pods"}),
		host: hostFacts{
			imageDenied: opts.imageDenier(),
			pathExists: func(path string) bool {
				_, err := os.Stat(path)
				return err == nil
			},
		},
		backoff:   backoff{Initial: opts.CrashLoopBackOffInitial, Max: opts.CrashLoopBackOffMax},
		tracked:   map[string]types.UID{},
		written:   map[types.UID]statusMark{},
		finalized: map[types.UID]bool{},
	}
	if config != nil {
		k.apiServer, _ = url.Parse(config.Host)
	}
	k.runtime = newProcessRuntime(opts.StateDir, k.queue.Add, k.now)
	return k
}

func (k *kubelet) run(ctx context.Context, clientCAs *x509.CertPool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer k.queue.ShutDown()
	defer k.runtime.stopAll()

	// The lister exists before anything can ask the log server about a pod.
	factory := informers.NewSharedInformerFactoryWithOptions(k.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermNotEqualSelector("spec.nodeName", "").String()
		}),
		informers.WithTransform(stripManagedFields))
	podInformer := factory.Core().V1().Pods()
	k.pods = podInformer.Lister()
	logs, err := k.startLogServer(ctx, clientCAs)
	if err != nil {
		return err
	}
	bootID := string(uuid.NewUUID())
	for i := 0; i < k.opts.Nodes; i++ {
		address, err := nodeAddress(k.opts.LogServerAddressBase, i)
		if err != nil {
			return err
		}
		k.nodes[nodeName(k.opts.NodeNamePrefix, i)] = &nodeIdentity{
			Name: nodeName(k.opts.NodeNamePrefix, i), Index: i, Address: address,
			PodCIDR: nodePodCIDR(i), Port: logs.port, BootID: bootID,
		}
	}
	if err := k.registerNodes(ctx); err != nil {
		return err
	}

	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    k.enqueue,
		UpdateFunc: func(_, obj any) { k.enqueue(obj) },
		DeleteFunc: k.enqueue,
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), podInformer.Informer().HasSynced) {
		return errors.New("the pod informer did not sync")
	}
	k.adoptAddresses()

	var workers sync.WaitGroup
	for i := 0; i < k.opts.Workers; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for k.processNext(ctx) {
			}
		}()
	}
	go k.heartbeat(ctx)
	k.logf("serving %d nodes (%s0..%d), state in %s", k.opts.Nodes, k.opts.NodeNamePrefix, k.opts.Nodes-1, k.opts.StateDir)
	<-ctx.Done()
	k.queue.ShutDown()
	workers.Wait()
	factory.Shutdown()
	return nil
}

// stripManagedFields drops what the kubelet never reads before objects enter the cache.
func stripManagedFields(obj any) (any, error) {
	if accessor, err := meta.Accessor(obj); err == nil {
		accessor.SetManagedFields(nil)
	}
	return obj, nil
}

func (k *kubelet) enqueue(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if _, ours := k.nodes[pod.Spec.NodeName]; !ours {
		return
	}
	if key, err := cache.MetaNamespaceKeyFunc(pod); err == nil {
		k.queue.Add(key)
	}
}

// adoptAddresses records the IPs of pods that already run, before any new pod gets one.
func (k *kubelet) adoptAddresses() {
	pods, err := k.pods.List(everything)
	if err != nil {
		return
	}
	for _, pod := range pods {
		if _, ours := k.nodes[pod.Spec.NodeName]; ours && pod.Status.PodIP != "" && !isTerminal(pod.Status.Phase) && !pod.Spec.HostNetwork {
			if _, err := k.addresses.ensure(pod.Spec.NodeName, string(pod.UID), pod.Status.PodIP); err != nil {
				k.logf("pod %s/%s keeps address %s outside its node's range: %v", pod.Namespace, pod.Name, pod.Status.PodIP, err)
			}
		}
	}
}

func (k *kubelet) processNext(ctx context.Context) bool {
	key, quit := k.queue.Get()
	if quit {
		return false
	}
	defer k.queue.Done(key)
	next, err := k.sync(ctx, key)
	if err != nil {
		if ctx.Err() == nil {
			k.logf("sync %s: %v", key, err)
		}
		k.queue.AddRateLimited(key)
		return true
	}
	k.queue.Forget(key)
	if !next.IsZero() {
		k.queue.AddAfter(key, max(next.Sub(k.now()), 10*time.Millisecond))
	}
	return true
}
