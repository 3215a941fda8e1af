using SegServe.Inference.Models;

namespace SegServe.Inference.Instances;

/// <summary>The instance-segmentation exports the service reads, chosen by the manifest's <c>family</c>.</summary>
public enum InstanceFamily
{
    /// <summary>
    /// torchvision <c>maskrcnn_resnet50_fpn</c> exports: one <c>[3,H,W]</c> RGB image in [0, 1] (resize and normalisation
    /// inside the graph); <c>boxes</c> [K,4], <c>labels</c> int64 [K] (COCO ids), <c>scores</c> [K], <c>masks</c> [K,1,H,W]
    /// probabilities already pasted at the image size (binarised at &gt; threshold).
    /// </summary>
    MaskRcnnTorchvision,

    /// <summary>
    /// detectron2 traced exports: <c>pred_boxes</c> [K,4] in input-tensor pixels, <c>pred_classes</c> int64 [K] (0-based),
    /// <c>pred_masks</c> [K,1,S,S] RoI probabilities, <c>scores</c> [K], <c>image_size</c> [2]; masks pasted by
    /// <see cref="RoiMaskPaster"/> (binarised at ≥ threshold).
    /// </summary>
    Detectron2,

    /// <summary>
    /// Ultralytics YOLOv8 / YOLO11-seg: letterboxed <c>[1,3,640,640]</c> RGB in [0, 1]; <c>output0</c> and <c>output1</c>
    /// decoded by <see cref="YoloSegDecoder"/>.
    /// </summary>
    YoloSeg,
}

/// <summary>Names and roles of the instance families' outputs.</summary>
public static class InstanceFamilies
{
    /// <summary>The manifest <c>family</c> values of instance models.</summary>
    public static bool TryParse(string? family, out InstanceFamily value)
    {
        switch (family?.ToLowerInvariant())
        {
            case "maskrcnn-torchvision" or "torchvision-maskrcnn":
                value = InstanceFamily.MaskRcnnTorchvision;
                return true;
            case "detectron2" or "detectron2-maskrcnn":
                value = InstanceFamily.Detectron2;
                return true;
            case "yolov8-seg" or "yolo11-seg" or "yolo-seg":
                value = InstanceFamily.YoloSeg;
                return true;
            default:
                value = default;
                return false;
        }
    }

    /// <summary>
    /// The outputs a family needs, in the order the decoder reads them: each with its usual name and, for exports that
    /// leave names auto-generated, its position in the graph's outputs.
    /// </summary>
    public static IReadOnlyList<(string Name, int Position)> Outputs(InstanceFamily family) => family switch
    {
        InstanceFamily.MaskRcnnTorchvision => [("boxes", 0), ("labels", 1), ("scores", 2), ("masks", 3)],
        InstanceFamily.YoloSeg => [("output0", 0), ("output1", 1)],
        _ => [("pred_boxes", 0), ("pred_classes", 1), ("pred_masks", 2), ("scores", 3), ("image_size", 4)],
    };

    /// <summary>Picks the family's outputs by name, or by position where the names are absent.</summary>
    /// <exception cref="ModelLoadException">An output is missing.</exception>
    public static List<TensorInfo> SelectOutputs(InstanceFamily family, IReadOnlyList<TensorInfo> outputs)
    {
        var selected = new List<TensorInfo>();
        foreach ((string name, int position) in Outputs(family))
        {
            TensorInfo? byName = null;
            foreach (TensorInfo output in outputs)
            {
                if (output.Name == name)
                {
                    byName = output;
                }
            }

            if (byName is null && position >= outputs.Count)
            {
                throw new ModelLoadException(
                    $"The graph has no output '{name}' and only {outputs.Count} outputs: family '{Text(family)}' needs {string.Join(", ", Outputs(family).Select(o => o.Name))}.");
            }

            selected.Add(byName ?? outputs[position]);
        }

        return selected;
    }

    public static string Text(InstanceFamily family) => family switch
    {
        InstanceFamily.MaskRcnnTorchvision => "maskrcnn-torchvision",
        InstanceFamily.YoloSeg => "yolov8-seg",
        _ => "detectron2",
    };
}
