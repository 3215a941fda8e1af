using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Hosting;

namespace SegServe.Api.FunctionalTests.Infrastructure;

/// <summary>
/// The real service in memory, serving a models folder assembled for the tests: the manifests in
/// <c>TestModels/</c> beside links to the real ONNX files in <c>shared/fixtures</c>, plus deliberately broken models.
/// </summary>
public class SegServeFactory : WebApplicationFactory<Program>
{
    /// <summary>Test model name → ONNX file under <c>shared/fixtures</c>.</summary>
    public static readonly IReadOnlyDictionary<string, string> SharedModels = new Dictionary<string, string>
    {
        ["sinet-portrait"] = "real/sinet_portrait.onnx",
        ["espnet-camvid"] = "real/espnet_camvid.onnx",
        ["espnetv2-voc"] = "real/espnetv2_voc_384.onnx",
        ["lraspp-mobilenet-v3"] = "formats/lraspp_mobilenet_v3_large.onnx",
        ["unet-small"] = "formats/unet_small.onnx",
        ["unet-small-native"] = "formats/unet_small.onnx",
        ["deeplabv3plus-mobilenet"] = "formats/deeplabv3plus_mobilenet_v3_small.onnx",
        ["deeplabv3plus-mobilenet-native"] = "formats/deeplabv3plus_mobilenet_v3_small.onnx",
        ["fcn8s-vgg"] = "formats/fcn8s_vgg_small.onnx",
        ["lraspp-argmax-mmdeploy"] = "formats/lraspp_argmax_mmdeploy_style.onnx",
        ["maskrcnn-small"] = "formats/maskrcnn_small.onnx",
        ["detectron2-small"] = "formats/detectron2_style_small.onnx",
        ["yolov8seg-tiny"] = "formats/yolov8seg_tiny.onnx",
    };

    private readonly DirectoryInfo _models = Directory.CreateTempSubdirectory("segserve-models-");

    public SegServeFactory()
    {
        string manifests = Path.Combine(AppContext.BaseDirectory, "TestModels");
        if (SharedData.Root is string shared)
        {
            foreach ((string name, string onnx) in SharedModels)
            {
                string directory = Directory.CreateDirectory(Path.Combine(_models.FullName, name)).FullName;
                File.Copy(Path.Combine(manifests, name, "model.json"), Path.Combine(directory, "model.json"));
                File.CreateSymbolicLink(Path.Combine(directory, "model.onnx"), Path.Combine(shared, "fixtures", onnx));
            }

            // Loads, but its manifest promises 3 classes where the graph outputs 21: must be failed, with that reason.
            string mismatch = Directory.CreateDirectory(Path.Combine(_models.FullName, "wrong-class-count")).FullName;
            File.WriteAllText(Path.Combine(mismatch, "model.json"), """
                { "task": "semantic", "input": { "width": 384, "height": 384, "resize": "stretch" },
                  "output": { "kind": "logits" },
                  "classes": [ { "id": 0, "name": "a" }, { "id": 1, "name": "b" }, { "id": 2, "name": "c" } ] }
                """);
            File.CreateSymbolicLink(Path.Combine(mismatch, "model.onnx"), Path.Combine(shared, "fixtures", "real/espnetv2_voc_384.onnx"));
        }

        string broken = Directory.CreateDirectory(Path.Combine(_models.FullName, "broken-manifest")).FullName;
        File.WriteAllText(Path.Combine(broken, "model.json"), "{ \"task\": \"semantic\", ");

        string notOnnx = Directory.CreateDirectory(Path.Combine(_models.FullName, "not-onnx")).FullName;
        File.WriteAllText(Path.Combine(notOnnx, "model.json"), """
            { "input": { "width": 8, "height": 8 }, "output": { "kind": "logits" }, "classes": [ { "id": 0, "name": "only" } ] }
            """);
        File.WriteAllText(Path.Combine(notOnnx, "model.onnx"), "this is not a protobuf");
    }

    public string ModelsDirectory => _models.FullName;

    /// <summary>The evaluation runs' database, in the factory's temporary folder.</summary>
    public string DatabasePath => Path.Combine(_models.FullName, "evaluations.db");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Inference:ModelsDirectory", _models.FullName);
        builder.UseSetting("Inference:ExecutionProvider", "Cpu");
        builder.UseSetting("Evaluation:DatabasePath", DatabasePath);
        builder.ConfigureServices(static services => services.AddLeakScan());
        ConfigureSettings(builder);
    }

    /// <summary>
    /// Starts the host and waits until every model has loaded: the service listens while models load in the background,
    /// and most tests are about models that serve (the loading state has tests of its own).
    /// </summary>
    protected override IHost CreateHost(IHostBuilder builder)
    {
        IHost host = base.CreateHost(builder);
        if (WaitForModels)
        {
            ModelsLoaded.Wait(host);
        }

        return host;
    }

    /// <summary>Whether <see cref="CreateHost"/> waits for the models to load (true unless a test watches them load).</summary>
    protected virtual bool WaitForModels => true;

    /// <summary>Lets a derived factory change settings (e.g. lower limits).</summary>
    protected virtual void ConfigureSettings(IWebHostBuilder builder)
    {
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            try
            {
                _models.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
        }
    }
}

/// <summary>The same service with small limits, to exercise the 413 paths cheaply.</summary>
public sealed class SmallLimitsFactory : SegServeFactory
{
    public const long MaxBytes = 200_000;
    public const long MaxPixels = 100_000;

    protected override void ConfigureSettings(IWebHostBuilder builder)
    {
        builder.UseSetting("Inference:Images:MaxBytes", MaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Inference:Images:MaxPixels", MaxPixels.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>
/// The same service with a tiny queue in front of a slow model (espnetv2-voc: one run at a time, no batching, one
/// waiting request), to exercise admission control; and a batching override that is invalid.
/// </summary>
public sealed class TinyQueueFactory : SegServeFactory
{
    protected override void ConfigureSettings(IWebHostBuilder builder)
    {
        builder.UseSetting("Inference:Queue:Models:espnetv2-voc:MaxBatchSize", "1");
        builder.UseSetting("Inference:Queue:Models:espnetv2-voc:QueueCapacity", "1");
        builder.UseSetting("Inference:Queue:Models:espnetv2-voc:Instances", "1");
        builder.UseSetting("Inference:Queue:Models:sinet-portrait:MaxBatchSize", "0");
    }
}

/// <summary>The same service accepting every format it reads (GIF, TIFF, BMP, TGA and PBM are opt-in).</summary>
public sealed class AllFormatsFactory : SegServeFactory
{
    public static readonly string[] Formats = ["JPEG", "PNG", "WebP", "GIF", "TIFF", "BMP", "TGA", "PBM"];

    protected override void ConfigureSettings(IWebHostBuilder builder)
    {
        for (int i = 0; i < Formats.Length; i++)
        {
            builder.UseSetting($"Inference:Images:Formats:{i}", Formats[i]);
        }
    }
}
