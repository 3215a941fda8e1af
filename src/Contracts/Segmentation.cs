namespace SegServe.Contracts;

/// <summary>The result of semantic segmentation of one image.</summary>
/// <param name="Model">The model that produced it.</param>
/// <param name="Width">Width of the (orientation-corrected) uploaded image; the class map has this size.</param>
/// <param name="Height">Height of the (orientation-corrected) uploaded image.</param>
/// <param name="Upsample">How scores were brought back to the image size: <c>nearest</c>, <c>bilinear</c> or <c>bicubic</c>.</param>
/// <param name="ExecutionProvider">The ONNX Runtime execution provider that ran the model.</param>
/// <param name="Classes">The classes present in the class map, by id, with pixel counts.</param>
/// <param name="BatchSize">How many requests shared the model run that produced this result (dynamic batching).</param>
/// <param name="ClassMap">The class map: one class index per pixel, as a greyscale PNG.</param>
/// <param name="Confidence">Per-pixel probability of the chosen class as an 8-bit PNG (0–255 for 0–1); present with <c>include=confidence</c>.</param>
/// <param name="Timings">Time spent in each stage of the request.</param>
public sealed record SegmentationResponse(
    string Model,
    int Width,
    int Height,
    string Upsample,
    string ExecutionProvider,
    IReadOnlyList<ClassPresence> Classes,
    int BatchSize,
    EncodedImage ClassMap,
    EncodedImage? Confidence,
    StageTimings Timings);

/// <summary>A class present in a class map.</summary>
/// <param name="Id">Class index.</param>
/// <param name="Name">Class name.</param>
/// <param name="PixelCount">Pixels labelled with this class.</param>
/// <param name="Fraction">Share of the image's pixels, 0–1.</param>
public sealed record ClassPresence(int Id, string Name, long PixelCount, double Fraction);

/// <summary>An image embedded in a JSON response.</summary>
/// <param name="MediaType">Always <c>image/png</c>.</param>
/// <param name="BitDepth">8, or 16 for class maps of models with more than 256 classes.</param>
/// <param name="Data">The file, base64-encoded.</param>
public sealed record EncodedImage(string MediaType, int BitDepth, string Data);

/// <summary>Milliseconds spent in each stage of one request.</summary>
/// <param name="DecodeMs">Image decode, orientation and conversion to RGB.</param>
/// <param name="PreprocessMs">Resize and normalisation into the input tensor.</param>
/// <param name="QueueMs">Waiting for the model.</param>
/// <param name="InferenceMs">The ONNX Runtime run.</param>
/// <param name="PostprocessMs">Upsampling, argmax and class counting.</param>
/// <param name="EncodeMs">PNG encoding of the results.</param>
/// <param name="TotalMs">Sum of the stages.</param>
public sealed record StageTimings(
    double DecodeMs,
    double PreprocessMs,
    double QueueMs,
    double InferenceMs,
    double PostprocessMs,
    double EncodeMs,
    double TotalMs);

/// <summary>One model's queue since the service started.</summary>
/// <param name="Model">The model.</param>
/// <param name="Depth">Requests waiting now.</param>
/// <param name="InFlightBatches">Model runs in progress now.</param>
/// <param name="Outcomes">Requests by outcome: <c>ok</c>, <c>rejected</c> (queue full, 429), <c>expired</c> (deadline passed in the queue, 503), <c>cancelled</c> (caller went away), <c>failed</c> (model run failed, 500).</param>
/// <param name="BatchSizes">Model runs by batch size: the batch-size distribution, e.g. <c>{"1": 120, "4": 30}</c>.</param>
/// <param name="MeanBatchSize">Requests per model run.</param>
/// <param name="MeanQueueWaitMs">Mean time from entering the queue to the start of the run, of requests that ran.</param>
/// <param name="MeanRunMs">Mean duration of a model run.</param>
public sealed record QueueStatisticsResponse(
    string Model,
    int Depth,
    int InFlightBatches,
    IReadOnlyDictionary<string, long> Outcomes,
    IReadOnlyDictionary<string, long> BatchSizes,
    double MeanBatchSize,
    double MeanQueueWaitMs,
    double MeanRunMs);

/// <summary>The result of instance segmentation of one image: each object found, best score first.</summary>
/// <param name="Model">The model that produced it.</param>
/// <param name="Width">Width of the (orientation-corrected) uploaded image; masks have this size.</param>
/// <param name="Height">Height of the uploaded image.</param>
/// <param name="ExecutionProvider">The ONNX Runtime execution provider that ran the model.</param>
/// <param name="Instances">The objects.</param>
/// <param name="Timings">Time spent in each stage of the request.</param>
public sealed record InstanceSegmentationResponse(
    string Model,
    int Width,
    int Height,
    string ExecutionProvider,
    IReadOnlyList<InstanceResponse> Instances,
    StageTimings Timings);

/// <summary>One object.</summary>
/// <param name="Id">1-based index in this response (also its value in the instance-id PNG).</param>
/// <param name="ClassId">Class index (the model's: COCO ids with gaps for torchvision, 0-based for detectron2).</param>
/// <param name="ClassName">Class name from the manifest.</param>
/// <param name="Score">Confidence.</param>
/// <param name="Box">Bounding box in original-image pixels (continuous coordinates).</param>
/// <param name="Area">Mask pixels.</param>
/// <param name="Mask">The mask as COCO compressed RLE (column-major runs, pycocotools' string encoding), at the image size.</param>
/// <param name="Polygons">With <c>include=polygons</c>: each connected part's outer ring and holes, x0, y0, x1, y1, … in image pixels (pixel-edge coordinates), simplified within <c>tolerance</c>.</param>
/// <param name="CroppedMask">With <c>include=mask</c>: the mask over its bounding rectangle as an 8-bit PNG (255 = object).</param>
public sealed record InstanceResponse(
    int Id,
    int ClassId,
    string ClassName,
    double Score,
    BoxResponse Box,
    long Area,
    RleMask Mask,
    IReadOnlyList<PolygonResponse>? Polygons = null,
    CroppedMaskResponse? CroppedMask = null);

/// <summary>One connected part of a mask.</summary>
/// <param name="Outer">Outer ring: x0, y0, x1, y1, … (clockwise on screen).</param>
/// <param name="Holes">Holes, each a ring.</param>
public sealed record PolygonResponse(IReadOnlyList<double> Outer, IReadOnlyList<IReadOnlyList<double>> Holes);

/// <summary>A mask cropped to its bounding rectangle.</summary>
/// <param name="X">Left of the rectangle in the image.</param>
/// <param name="Y">Top of the rectangle.</param>
/// <param name="Width">Width of the rectangle.</param>
/// <param name="Height">Height of the rectangle.</param>
/// <param name="Png">The rectangle as an 8-bit greyscale PNG (base64), 255 inside the mask.</param>
public sealed record CroppedMaskResponse(int X, int Y, int Width, int Height, string Png);

/// <summary>A box: x1, y1 (top left) to x2, y2 (bottom right), in pixels.</summary>
/// <param name="X1">Left edge, in original-image pixels.</param>
/// <param name="Y1">Top edge, in original-image pixels.</param>
/// <param name="X2">Right edge, in original-image pixels.</param>
/// <param name="Y2">Bottom edge, in original-image pixels.</param>
public sealed record BoxResponse(double X1, double Y1, double X2, double Y2);

/// <summary>A COCO RLE mask: <c>size</c> is [height, width]; <c>counts</c> the compressed string, as pycocotools writes it.</summary>
/// <param name="Size">[height, width] of the image the mask covers.</param>
/// <param name="Counts">Column-major run lengths (starting with a background run), in pycocotools' compressed string encoding.</param>
public sealed record RleMask(IReadOnlyList<int> Size, string Counts);
