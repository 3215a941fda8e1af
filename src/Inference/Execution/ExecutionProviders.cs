using Microsoft.ML.OnnxRuntime;

namespace SegServe.Inference.Execution;

/// <summary>The execution provider a session was created with, and why.</summary>
/// <param name="Name"><c>CUDA</c> or <c>CPU</c>.</param>
/// <param name="Detail">Why this one, as it happened (e.g. the native loader's error with the paths it tried): for the log.</param>
public sealed record ExecutionProviderChoice(string Name, string Detail)
{
    /// <summary>Why this one, for clients: <see cref="Detail"/> without file-system paths.</summary>
    public string Note { get; } = Models.PathRedaction.Redact(Detail);
}

/// <summary>Creates ONNX Runtime sessions on CUDA when it loads, else on CPU, and says which one runs.</summary>
public static class SessionFactory
{
    public const string Cuda = "CUDA";
    public const string Cpu = "CPU";

    // CUDA either loads in this process or it does not: after the first failure, later models skip the attempt (and
    // ONNX Runtime's error print) and report the same reason.
    private static string? s_cudaFailure;

    /// <summary>Opens <paramref name="modelPath"/> with the preferred provider, falling back to CPU where allowed.</summary>
    /// <exception cref="OnnxRuntimeException">The model cannot be opened, or CUDA was required and is unavailable.</exception>
    public static (InferenceSession Session, ExecutionProviderChoice Provider) Create(string modelPath, InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? cudaFailure = Volatile.Read(ref s_cudaFailure);
        bool required = options.ExecutionProvider == ExecutionProviderPreference.Cuda || options.RequireGpu;
        if (required || (options.ExecutionProvider == ExecutionProviderPreference.Auto && cudaFailure is null))
        {
            SessionOptions? cudaOptions = null;
            OrtCUDAProviderOptions? provider = null;
            try
            {
                cudaOptions = CreateOptions(options);
                provider = new OrtCUDAProviderOptions();
                provider.UpdateOptions(CudaProviderOptions(options.Cuda, options.CudaDeviceId));
                cudaOptions.AppendExecutionProvider_CUDA(provider);
                var session = new InferenceSession(modelPath, cudaOptions);
                return (session, new ExecutionProviderChoice(
                    Cuda,
                    $"CUDA device {options.CudaDeviceId} (arena {options.Cuda.ArenaExtendStrategy}, cuDNN convolution algorithm search {options.Cuda.CudnnConvAlgoSearch})."));
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException && !required)
            {
                cudaFailure = Explain(ex);
                Volatile.Write(ref s_cudaFailure, cudaFailure);
            }
            finally
            {
                provider?.Dispose();
                cudaOptions?.Dispose();
            }
        }

        using SessionOptions cpuOptions = CreateOptions(options);
        var cpuSession = new InferenceSession(modelPath, cpuOptions);
        string note = cudaFailure is null
            ? "CPU requested by configuration."
            : $"CUDA unavailable, running on CPU: {cudaFailure}";
        return (cpuSession, new ExecutionProviderChoice(Cpu, note));
    }

    /// <summary>
    /// Whether the CUDA provider loads in this process with these settings (its library, CUDA and cuDNN): null when it
    /// does, else why not. Checked on start where <see cref="InferenceOptions.RequireGpu"/> is set.
    /// </summary>
    public static string? CudaUnavailableReason(InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            // Reading the provider's options is what loads its library; appending it checks the device settings.
            using var provider = new OrtCUDAProviderOptions();
            provider.UpdateOptions(CudaProviderOptions(options.Cuda, options.CudaDeviceId));
            using SessionOptions probe = CreateOptions(options);
            probe.AppendExecutionProvider_CUDA(provider);
            return null;
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            return Explain(ex);
        }
    }

    private static string Explain(Exception ex) =>
        LoaderError(ex.Message) + " (ONNX Runtime 1.31 GPU needs CUDA 13 and cuDNN 9 libraries on the library path)";

    /// <summary>The CUDA provider's settings, as ONNX Runtime names them.</summary>
    public static Dictionary<string, string> CudaProviderOptions(CudaOptions cuda, int deviceId)
    {
        ArgumentNullException.ThrowIfNull(cuda);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = deviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["arena_extend_strategy"] = cuda.ArenaExtendStrategy == CudaArenaExtendStrategy.SameAsRequested ? "kSameAsRequested" : "kNextPowerOfTwo",
            ["cudnn_conv_algo_search"] = cuda.CudnnConvAlgoSearch switch
            {
                CudnnConvAlgoSearch.Heuristic => "HEURISTIC",
                CudnnConvAlgoSearch.Default => "DEFAULT",
                _ => "EXHAUSTIVE",
            },
            ["do_copy_in_default_stream"] = "1",
        };
        if (cuda.MemoryLimitBytes > 0)
        {
            settings["gpu_mem_limit"] = cuda.MemoryLimitBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return settings;
    }

    private static SessionOptions CreateOptions(InferenceOptions options) => new()
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        IntraOpNumThreads = options.IntraOpThreads,
        InterOpNumThreads = 1,
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    };

    /// <summary>
    /// The part of ONNX Runtime's error that says what failed to load (<c>Failed to load library … with error: …</c>),
    /// without its error-code and source-location prefix; the first line of the message otherwise.
    /// </summary>
    private static string LoaderError(string message)
    {
        int newline = message.IndexOf('\n', StringComparison.Ordinal);
        string line = (newline < 0 ? message : message[..newline]).Trim();
        int failed = line.IndexOf("Failed to load", StringComparison.Ordinal);
        return failed < 0 ? line : line[failed..];
    }
}
